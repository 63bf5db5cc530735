import type { FelixConfiguration } from '@tricolor/datastore';
import { resolveSettings } from '../config.js';
import type { FelixSettings } from '../config-types.js';
import type { CalcGraph, Calculator } from './graph.js';

/** Fields fixed for the life of the process (the agent warns when FelixConfiguration changes them). */
export type PinnedSettings = Pick<FelixSettings, 'chainPrefix' | 'interfacePrefix' | 'ipv6Support'>;

/**
 * FelixConfiguration (`default`, `node.<name>`) + FELIX_* overrides → the settings every
 * other calculator reads, emitted as `settings` whenever they change (and once at the start).
 */
export class SettingsCalculator implements Calculator {
  private readonly configs = new Map<string, FelixConfiguration>();
  private dirty = true;
  private last = '';
  current: Readonly<FelixSettings>;

  constructor(
    private readonly nodeName: string,
    private readonly overrides: Partial<FelixSettings>,
    private readonly pinned: PinnedSettings,
  ) {
    this.current = this.resolve();
  }

  register(g: CalcGraph): void {
    this.graph = g;
    g.mirror('config', this.configs, () => {
      this.dirty = true;
    });
  }

  private graph: CalcGraph | undefined;

  /** What FelixConfiguration asks for, before the pinned fields are applied (to warn about them). */
  configured(): FelixSettings {
    return resolveSettings(this.overrides, this.configs.values(), this.nodeName);
  }

  private resolve(): Readonly<FelixSettings> {
    return Object.freeze({ ...this.configured(), ...this.pinned });
  }

  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const s = this.resolve();
    const text = JSON.stringify(s);
    if (text === this.last) return;
    this.last = text;
    this.current = s;
    this.graph!.emit('settings', 'settings', s);
  }
}
