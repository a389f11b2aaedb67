/**
 * Configuration: the settings table, loading (file, environment, flags), checking and the
 * generated default file.
 *
 * @module
 */

export {
  applyEnv,
  applyFlags,
  applyToml,
  checkValue,
  type Config,
  CONFIG_LOOKUP,
  ConfigError,
  type ConfigFlags,
  type ConfigProblem,
  defaultConfig,
  formatProblem,
  loadConfig,
  type LoadedConfig,
} from "./config.ts";
export { generateConfig } from "./generate.ts";
export {
  envName,
  findSetting,
  type Setting,
  settingName,
  SETTINGS,
  type SettingType,
} from "./settings.ts";
