import { loadConfigFile } from '../config/load.js';
import { createCatalog } from '../catalog/index.js';
import { loadPolicyFile } from '../policy/index.js';

export async function configCheckCommand(file: string | undefined): Promise<void> {
  const path = file ?? process.env.SHEKARA_CONFIG;
  const config = loadConfigFile(path);
  const catalog = createCatalog(config.catalog);
  for (const oem of config.oems) {
    const p = loadPolicyFile(oem.policyFile, catalog);
    process.stdout.write(`policy ${oem.policyFile}: OEM ${p.oem}, ${p.purposes.length} purpose(s), ${p.hash}\n`);
  }
  process.stdout.write(
    `config ${path ?? '(defaults)'}: valid (${config.oems.length} OEM(s), MQTT ${config.mqtt.port}, HTTP ${config.http.port})\n`,
  );
}
