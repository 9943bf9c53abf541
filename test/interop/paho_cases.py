"""Our own take on the Eclipse Paho interoperability cases (eclipse/paho.mqtt.testing,
interoperability/client_test.py and client_test5.py), written for Shekara's deny-by-default car
endpoint with the Debian paho-mqtt client. Each case keeps the Paho case's name; where a car
cannot do what the Paho case does (a second client on another topic, wildcards, wills) the case
checks what the gateway does instead, as docs/interop.md lists.

Usage: paho_cases.py PORT VIN SECRET VERSION(4|5) — prints one JSON line per case:
{"case": name, "ok": bool, "detail": ...}; commands are sent by the test through a control line
on stdin ("command <json>") after the script prints {"need": "command"}.
"""
import json
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes

PORT, VIN, SECRET, VERSION = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
V5 = VERSION == 5
TELEMETRY, COMMANDS, ACK = f"vehicles/{VIN}/telemetry", f"vehicles/{VIN}/commands", f"vehicles/{VIN}/commands/ack"


def report(case, ok, detail=None):
    print(json.dumps({"case": case, "ok": bool(ok), "detail": detail}), flush=True)


def need_command():
    print(json.dumps({"need": "command"}), flush=True)
    sys.stdin.readline()


class Car:
    def __init__(self, clean=True, keepalive=30, expiry=None, client_id=VIN):
        self.c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5 if V5 else mqtt.MQTTv311,
                             **({} if V5 else {"clean_session": clean}))
        self.c.username_pw_set(VIN, SECRET)
        self.clean, self.keepalive, self.expiry = clean, keepalive, expiry
        self.connack = threading.Event()
        self.rc = None
        self.flags = {}
        self.props = None
        self.messages = []
        self.granted = None
        self.suback = threading.Event()
        self.unsuback = threading.Event()
        self.published = set()
        self.disconnected = threading.Event()
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, m: self.messages.append(m)
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = lambda *a: self.unsuback.set()
        self.c.on_publish = lambda c, u, mid: self.published.add(mid)
        self.c.on_disconnect = lambda *a: self.disconnected.set()

    def _on_connect(self, c, u, flags, rc, props=None):
        self.rc, self.flags, self.props = (rc.value if hasattr(rc, "value") else rc), flags, props
        self.connack.set()

    def _on_subscribe(self, c, u, mid, granted, props=None):
        self.granted = [g.value if hasattr(g, "value") else g for g in granted]
        self.suback.set()

    def connect(self):
        kw = {}
        if V5:
            p = Properties(PacketTypes.CONNECT)
            if self.expiry is not None:
                p.SessionExpiryInterval = self.expiry
            kw = {"clean_start": self.clean, "properties": p}
        self.c.connect("127.0.0.1", PORT, keepalive=self.keepalive, **kw)
        self.c.loop_start()
        self.connack.wait(5)
        return self.rc

    def publish(self, topic, payload, qos):
        info = self.c.publish(topic, payload, qos)
        if qos > 0:
            deadline = time.time() + 5
            while info.mid not in self.published and time.time() < deadline:
                time.sleep(0.01)
            return info.mid in self.published
        return True

    def subscribe(self, topic, qos=1):
        self.suback.clear()
        self.c.subscribe(topic, qos)
        self.suback.wait(5)
        return self.granted

    def wait_messages(self, n, secs=5):
        deadline = time.time() + secs
        while len(self.messages) < n and time.time() < deadline:
            time.sleep(0.01)
        return self.messages

    def stop(self, disconnect=True):
        if disconnect:
            self.c.disconnect()
        else:
            self.c._sock.close()  # a car that loses its network
        self.c.loop_stop()


def persistent():
    return Car(clean=False, expiry=600) if V5 else Car(clean=False)


def test_basic():
    a = Car()
    ok = a.connect() == 0
    granted = a.subscribe(COMMANDS, 2)
    stored = all(a.publish(TELEMETRY, json.dumps({"speed": q}), q) for q in (0, 1, 2))
    need_command()
    got = a.wait_messages(1)
    acked = bool(got) and a.publish(ACK, json.dumps({"id": json.loads(got[0].payload)["id"], "status": "done"}), 1)
    a.stop()
    report("test_basic", ok and granted == [2] and stored and acked, {"granted": granted})


def test_retained_messages():
    a = Car()
    a.connect()
    ok = all(a.c.publish(TELEMETRY, json.dumps({"speed": q}), q, retain=True) is not None for q in (0, 1, 2))
    ok = ok and a.publish(TELEMETRY, json.dumps({"speed": 9}), 1)
    a.stop()
    report("test_retained_messages", ok, "retain accepted and ignored: telemetry is stored, never retained")


def test_zero_length_clientid():
    a = Car(client_id="")
    rc = a.connect()
    a.stop()
    report("test_zero_length_clientid", rc == (0x85 if V5 else 2), {"rc": rc})


def will_message_test():
    a = Car()
    a.c.will_set(TELEMETRY, "{}", 0)
    rc = a.connect()
    a.stop()
    report("will_message_test", rc == (0x83 if V5 else 5), {"rc": rc})


def test_offline_message_queueing():
    a = persistent()
    a.connect()
    a.subscribe(COMMANDS, 1)
    a.stop()
    need_command()  # sent while the car is away: it waits in the store until the car is back
    b = persistent()
    b.connect()
    got = b.wait_messages(1)
    b.stop()
    report("test_offline_message_queueing", b.flags.get("session present") == 1 and len(got) == 1,
           {"sessionPresent": b.flags.get("session present"), "messages": len(got)})


def test_overlapping_subscriptions():
    a = Car()
    a.connect()
    a.suback.clear()
    a.c.subscribe([(COMMANDS, 1), (f"vehicles/{VIN}/#", 2)])
    a.suback.wait(5)
    granted = a.granted
    need_command()
    got = a.wait_messages(1)
    time.sleep(0.3)
    a.stop()
    report("test_overlapping_subscriptions", len(got) == 1 and granted[0] == 1 and granted[1] >= 0x80,
           {"granted": granted, "messages": len(a.messages)})


def test_keepalive():
    a = Car(keepalive=5)
    a.c._ping_t = 0
    a.connect()
    a.c.loop_stop()  # silent: no PINGREQ, nothing read
    start = time.time()
    while time.time() - start < 12:
        try:
            if a.c._sock.recv(1) == b"":
                break
        except BlockingIOError:
            time.sleep(0.1)
        except OSError:
            break
    elapsed = time.time() - start
    report("test_keepalive", 5 <= elapsed < 11, {"closedAfterSeconds": round(elapsed, 1)})


def test_redelivery_on_reconnect():
    a = persistent()
    a.connect()
    a.subscribe(COMMANDS, 1)
    a.c._handle_publish = lambda: 0  # receives the command and never PUBACKs it
    need_command()
    time.sleep(0.5)
    a.stop(disconnect=False)
    b = persistent()
    b.connect()
    got = b.wait_messages(1)
    b.stop()
    report("test_redelivery_on_reconnect", len(got) == 1 and got[0].dup, {"messages": len(got)})


def test_subscribe_failure():
    a = Car()
    a.connect()
    granted = a.subscribe("test/nosubscribe", 2)
    alive = a.publish(TELEMETRY, "{}", 1)
    a.stop()
    report("test_subscribe_failure", granted and granted[0] >= 0x80 and alive, {"granted": granted})


def test_dollar_topics():
    a = Car()
    a.connect()
    granted = a.subscribe("#", 1)
    report_ok = granted and granted[0] >= 0x80
    a.stop()
    report("test_dollar_topics", report_ok, {"granted": granted})


def test_unsubscribe():
    a = Car()
    a.connect()
    a.subscribe(COMMANDS, 1)
    a.unsuback.clear()
    a.c.unsubscribe(COMMANDS)
    ok = a.unsuback.wait(5)
    a.stop()
    report("test_unsubscribe", ok)


# MQTT 5 only (client_test5.py).
def test_server_keep_alive():
    a = Car(keepalive=0)
    rc = a.connect()
    ska = getattr(a.props, "ServerKeepAlive", None)
    a.stop()
    report("test_server_keep_alive", rc == 0 and ska == 5, {"serverKeepAlive": ska})


def test_user_properties():
    # User properties that claim another role or car change nothing: the PUBLISH to another
    # car's topic is refused (PUBACK 0x87, the car stays), the car's own still stored.
    a = Car()
    a.connect()
    p = Properties(PacketTypes.PUBLISH)
    p.UserProperty = [("role", "oem"), ("vin", "LOTHER00000000000")]
    a.c.publish("vehicles/LOTHER00000000000/telemetry", "{}", 1, properties=p)
    own = a.publish(TELEMETRY, json.dumps({"speed": 5}), 1)
    alive = not a.disconnected.is_set()
    a.stop()
    report("test_user_properties", own and alive, {"stillConnected": alive})


def test_client_topic_alias():
    a = Car()
    a.connect()
    p = Properties(PacketTypes.PUBLISH)
    p.TopicAlias = 1
    first = a.c.publish(TELEMETRY, json.dumps({"speed": 1}), 1, properties=p)
    p2 = Properties(PacketTypes.PUBLISH)
    p2.TopicAlias = 1
    second = a.c.publish("", json.dumps({"speed": 2}), 1, properties=p2)
    deadline = time.time() + 5
    while not {first.mid, second.mid} <= a.published and time.time() < deadline:
        time.sleep(0.01)
    a.stop()
    report("test_client_topic_alias", {first.mid, second.mid} <= a.published)


def test_session_expiry():
    a = Car(clean=False, expiry=1)
    a.connect()
    a.subscribe(COMMANDS, 1)
    a.stop()
    time.sleep(2.5)
    b = Car(clean=False, expiry=1)
    b.connect()
    b.stop()
    report("test_session_expiry", b.flags.get("session present") == 0, {"sessionPresent": b.flags.get("session present")})


def test_maximum_packet_size():
    a = Car()
    a.connect()
    mps = getattr(a.props, "MaximumPacketSize", None)
    a.stop()
    report("test_maximum_packet_size", mps == 65536, {"maximumPacketSize": mps})


CASES = [test_basic, test_retained_messages, test_zero_length_clientid, will_message_test,
         test_offline_message_queueing, test_overlapping_subscriptions, test_keepalive,
         test_redelivery_on_reconnect, test_subscribe_failure, test_dollar_topics, test_unsubscribe]
CASES5 = [test_server_keep_alive, test_user_properties, test_client_topic_alias, test_session_expiry,
          test_maximum_packet_size]

for case in CASES + (CASES5 if V5 else []):
    try:
        case()
    except Exception as e:  # a case that breaks is a failed case, the others still run
        report(case.__name__, False, repr(e))
print(json.dumps({"done": True}), flush=True)
