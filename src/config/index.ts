export { SETTINGS, ENVIRONMENTS, defaultFor, findSetting } from './schema';
export type { Environment, SettingDefinition, SettingValue } from './schema';
export { FORMATS } from './formats';
export { loadConfig, formatIssues, environmentFrom } from './load';
export type { LoadResult, LoadedConfig, RejectedConfig } from './load';
export { ConfigStore } from './store';
export type { UpdateResult, ConfigListener } from './store';
export { describeSettings, settingsMarkdown, settingsTable, readKey, publicConfig } from './describe';
export type { AgentConfig, Bands, ConfigIssue, SettingSource } from './types';
