#!/bin/sh
# Creates the dynamic security plugin's file with one admin account for Shekara's credential
# sync (mqtt.external.credentialSync.username/password). Everything else — default deny, the
# gateway role, every car — Shekara writes itself when it starts.
#   init-dynsec.sh /var/lib/mosquitto/dynamic-security.json shekara-admin
# asks for the password (or takes it as a third argument); put the same in Shekara's config (or its secret store).
set -eu
file=${1:?usage: init-dynsec.sh FILE ADMIN_USERNAME}
admin=${2:?usage: init-dynsec.sh FILE ADMIN_USERNAME}
mosquitto_ctrl dynsec init "$file" "$admin" ${3:+"$3"}
chown mosquitto: "$file" 2>/dev/null || true
chmod 600 "$file"
