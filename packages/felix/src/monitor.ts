/**
 * Sorts `ip monitor link route` lines: `relevant` when a workload or tunnel device came,
 * changed or went, or one of felix's routes was deleted; `stale` when the kernel removed
 * something by itself (a device with its routes, or a route), so felix's route model no
 * longer holds. A device appearing is relevant but not stale: the routes, neighbors and
 * sysctls that waited for it are retried by the next apply without re-reading 10,000 routes.
 */
export function classifyMonitorLines(
  lines: string[],
  interfacePrefix: string,
  vxlanDevice: string,
): { relevant: boolean; stale: boolean } {
  let relevant = false;
  let stale = false;
  for (const l of lines) {
    const link = /^(Deleted )?\d+: ([^:@\s]+)/.exec(l);
    if (link) {
      if (!link[2]!.startsWith(interfacePrefix) && link[2] !== vxlanDevice) continue;
      relevant = true;
      if (link[1]) stale = true;
    } else if (
      l.startsWith('Deleted ') &&
      (l.includes(' proto 80') || l.includes(` dev ${interfacePrefix}`))
    ) {
      relevant = true;
      stale = true;
    }
  }
  return { relevant, stale };
}

/** The workload devices `ip monitor link` lines say were deleted (their sysctls went with them). */
export function deletedDevices(lines: string[], interfacePrefix: string): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const dev = /^Deleted \d+: ([^:@\s]+)/.exec(l)?.[1];
    if (dev?.startsWith(interfacePrefix)) out.push(dev);
  }
  return out;
}
