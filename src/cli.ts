#!/usr/bin/env node
/*
 * `npx otel-perf-agent config [--json|--markdown]`: every setting with its variable, its default in
 * each environment, and (from this shell's environment) its current value and source.
 */
import { ConfigStore, describeSettings, formatIssues, loadConfig, settingsMarkdown, settingsTable } from './config';

const USAGE = `usage: otel-perf-agent config [--json | --markdown]

  config              print every setting: variable, default per environment, current value, source
  config --json       the same as JSON
  config --markdown   the table of defaults as Markdown (README's configuration table)

Preload the agent with: node --require otel-perf-agent/register app.js`;

function main(argv: string[]): number {
  const [command, ...flags] = argv;
  if (command !== 'config') {
    process.stdout.write(USAGE + '\n');
    return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
  if (flags.includes('--markdown')) {
    process.stdout.write(settingsMarkdown() + '\n');
    return 0;
  }
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(formatIssues(loaded.issues) + '\n');
    process.stdout.write(settingsTable() + '\n');
    return 1;
  }
  const store = new ConfigStore(loaded);
  if (flags.includes('--json')) {
    process.stdout.write(JSON.stringify(describeSettings(store), null, 2) + '\n');
  } else {
    process.stdout.write(`environment: ${store.current.env}\n\n${settingsTable(store)}\n`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
