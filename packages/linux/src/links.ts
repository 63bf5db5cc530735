import { existsSync, readdirSync } from 'node:fs';

/** Whether a network device of this name exists in our namespace (a stat, no process). */
export const linkExists = (dev: string): boolean => existsSync(`/sys/class/net/${dev}`);

/** The names of every network device of our namespace (one directory read). */
export const linkNames = (): Set<string> => new Set(readdirSync('/sys/class/net'));
