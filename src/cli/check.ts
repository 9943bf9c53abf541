import { loadConfigFile } from '../config/load.js';
import { createCatalog } from '../catalog/index.js';
import { loadPolicyFile } from '../policy/index.js';
import { cliIo } from './io.js';

export async function configCheckCommand(file: string | undefined): Promise<void> {
  const path = file ?? cliIo().env.SHEKARA_CONFIG;
  const config = loadConfigFile(path, { env: cliIo().env });
  const catalog = createCatalog(config.catalog);
  for (const oem of config.oems) {
    const p = loadPolicyFile(oem.policyFile, catalog);
    cliIo().stdout.write(`policy ${oem.policyFile}: OEM ${p.oem}, ${p.purposes.length} purpose(s), ${p.hash}\n`);
  }
  cliIo().stdout.write(
    `config ${path ?? '(defaults)'}: valid (${config.oems.length} OEM(s), MQTT ${config.mqtt.port}, HTTP ${config.http.port})\n`,
  );
}
