/** Commander options built from `SETTINGS`: the CLI declares no setting of its own. */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { ConfigError, SETTINGS } from '../config.js';
import type { Config, Setting } from '../config.js';

/** The settings a command needs to open the database. */
export const STORE_SETTINGS = [
  'database',
  'poolSize',
  'dbTimeoutMs',
] as const satisfies readonly (keyof Config)[];

/**
 * One setting as a commander option: commander reads its variable, checks its choices, parses it
 * (reporting which flag or variable was bad) and applies a fixed default. A default derived from
 * other settings, or "automatic", is left to loadConfig; commander shows a default only when it
 * applies it, so the description states that one.
 */
export function settingOption(key: keyof Config): Option {
  const setting = SETTINGS[key] as Setting<unknown>;
  const fallback = setting.default;
  const fixed = typeof fallback !== 'function' && fallback !== undefined;
  const description =
    fixed || setting.defaultHelp === undefined
      ? setting.help
      : `${setting.help} (default: ${setting.defaultHelp})`;
  const option = new Option(setting.flags, description).env(setting.env);
  if (setting.choices !== undefined) option.choices(setting.choices);
  else
    option.argParser((raw: string) => {
      try {
        return setting.parse(raw);
      } catch (err) {
        if (err instanceof ConfigError) throw new InvalidArgumentError(err.message);
        throw err;
      }
    });
  if (fixed) option.default(fallback, setting.defaultHelp);
  return option;
}

export function addSettings(command: Command, keys: readonly (keyof Config)[]): Command {
  for (const key of keys) command.addOption(settingOption(key));
  return command;
}
