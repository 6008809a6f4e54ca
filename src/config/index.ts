export { SETTINGS } from './schema';
export { FORMATS } from './formats';
export { loadConfig, formatIssues } from './load';
export type { LoadResult } from './load';
export { ConfigStore } from './store';
export type { UpdateResult } from './store';
export { describeSettings, settingsMarkdown, settingsTable, readKey, publicConfig } from './describe';
export type { AgentConfig, Bands, ConfigIssue } from './types';
