/**
 * Sorts `ip monitor link route` lines: `relevant` when a workload or tunnel device came,
 * changed or went, or one of felix's routes was deleted; `stale` when the kernel removed
 * something by itself (a device with its routes, or a route). A device appearing is
 * relevant but not stale: what waited for it is pending and written by the next apply.
 * What exactly went is `kernelRemovals`.
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

/**
 * What `ip monitor link route` lines say the kernel removed by itself: felix's devices
 * (workload interfaces, the tunnel device; their routes, neighbors and sysctls went with
 * them) and whether one of felix's routes was deleted (then felix reads the routes again).
 */
export function kernelRemovals(
  lines: string[],
  interfacePrefix: string,
  vxlanDevice: string,
): { devices: string[]; routes: boolean } {
  const devices: string[] = [];
  let routes = false;
  for (const l of lines) {
    if (!l.startsWith('Deleted ')) continue;
    const dev = /^Deleted \d+: ([^:@\s]+)/.exec(l)?.[1];
    if (dev !== undefined) {
      if (dev.startsWith(interfacePrefix) || dev === vxlanDevice) devices.push(dev);
    } else if (l.includes(' proto 80') || l.includes(` dev ${interfacePrefix}`)) routes = true;
  }
  return { devices, routes };
}
