#!/usr/bin/env node
/**
 * tricolor-cni: the CNI plugin (kubelet runs it once per pod attach/detach), and
 * `tricolor-cni install …` which puts it and its conflist on the host.
 */
import { CniCode, CniError } from './errors.js';
import { installFromArgs } from './install.js';
import { logCommand } from './log.js';
import {
  classify,
  cmdAdd,
  cmdCheck,
  cmdDel,
  cmdGc,
  cmdStatus,
  openContext,
  parseNetConf,
  versionInfo,
} from './plugin.js';
import { parseEnv } from './spec.js';

/** kubelet waits for us; never longer than this (then it may retry: "try again later"). */
const DEADLINE_MS = Number(process.env.TRICOLOR_CNI_TIMEOUT_MS ?? 60_000);

function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function print(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function runCni(): Promise<number> {
  let version = '1.0.0';
  let logFile: string | undefined;
  const started = performance.now();
  const logged = (result: Record<string, unknown>) =>
    logCommand(logFile, {
      command: process.env.CNI_COMMAND,
      containerID: process.env.CNI_CONTAINERID,
      args: process.env.CNI_ARGS,
      ms: Math.round(performance.now() - started),
      ...result,
    });
  try {
    const req = parseEnv(process.env);
    const stdin = await readStdin();
    if (req.command === 'VERSION') {
      let asked: string | undefined;
      try {
        asked = stdin.trim() ? (JSON.parse(stdin) as { cniVersion?: string }).cniVersion : undefined;
      } catch {
        asked = undefined;
      }
      print(versionInfo(asked));
      return 0;
    }
    const conf = parseNetConf(stdin);
    version = conf.cniVersion;
    logFile = conf.log_file_path;
    const ctx = openContext(conf, req, process.env);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new CniError(CniCode.TryAgainLater, `${req.command} did not finish in ${DEADLINE_MS} ms`)),
        DEADLINE_MS,
      );
    });
    try {
      const work = (async () => {
        switch (req.command) {
          case 'ADD': {
            const res = await cmdAdd(ctx);
            logged({ ok: true, ips: res.ips.map((i) => i.address), interface: res.interfaces[0]?.name });
            print(res);
            return;
          }
          case 'DEL':
            await cmdDel(ctx);
            return;
          case 'CHECK':
            await cmdCheck(ctx);
            return;
          case 'STATUS':
            await cmdStatus(ctx);
            return;
          case 'GC':
            await cmdGc(ctx);
            return;
        }
      })();
      await Promise.race([work, deadline]);
      if (req.command !== 'ADD') logged({ ok: true });
    } finally {
      clearTimeout(timer);
      ctx.ds.close();
    }
    return 0;
  } catch (e) {
    const err = classify(e);
    logged({ ok: false, code: err.code, msg: err.message });
    print(err.toJSON(version));
    return 1;
  }
}

async function main(): Promise<number> {
  if (process.argv[2] === 'install') {
    try {
      const out = installFromArgs(process.argv.slice(3), process.env);
      process.stderr.write(`installed ${out.plugin} and ${out.conf}\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      return 1;
    }
  }
  if (process.argv[2] === '--help' || process.argv[2] === '-h') {
    process.stdout.write(
      'usage: tricolor-cni (run by the container runtime with CNI_* env)\n       tricolor-cni install [--bin-dir D] [--conf-dir D] [--nodename N | --nodename-file F] [--etcd-endpoints E] [--mtu M]\n',
    );
    return 0;
  }
  return runCni();
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
