/** Where a benchmark ran: recorded next to every figure (the 1/5/15-minute load average above all). */
import os from "node:os";

export interface EnvironmentSnapshot {
  readonly time: string;
  readonly platform: string;
  readonly arch: string;
  readonly node: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly totalMemoryGiB: number;
  /** 1, 5 and 15-minute load averages. */
  readonly loadAverage: readonly number[];
}

export function environmentSnapshot(): EnvironmentSnapshot {
  const cpus = os.cpus();
  return {
    time: new Date().toISOString(),
    platform: os.platform(),
    arch: os.arch(),
    node: process.version,
    cpuModel: cpus[0]?.model ?? "unknown",
    cpus: os.availableParallelism(),
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
