import { existsSync } from 'node:fs';

/** Whether a network device of this name exists in our namespace (a stat, no process). */
export const linkExists = (dev: string): boolean => existsSync(`/sys/class/net/${dev}`);
