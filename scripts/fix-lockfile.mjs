#!/usr/bin/env node
/**
 * node-llama-cpp lists prebuilt-binary packages for every platform as optional dependencies. Some of
 * them (macOS, Windows, riscv64) are not served by every registry mirror; `npm install` then skips
 * them silently but leaves them out of package-lock.json, and `npm ci` refuses the lock as "out of
 * sync". This script adds lock entries for the missing ones, marked optional and restricted to their
 * platform, so `npm ci` validates the lock and skips them on other platforms (it never fetches a
 * package whose os/cpu does not match). Run it after `npm install` changes the lock.
 */
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const platforms = {
  "linux-arm64": ["linux", "arm64"],
  "linux-armv7l": ["linux", "arm"],
  "linux-riscv64": ["linux", "riscv64"],
  "linux-x64": ["linux", "x64"],
  "linux-x64-cuda": ["linux", "x64"],
  "linux-x64-cuda-ext": ["linux", "x64"],
  "linux-x64-vulkan": ["linux", "x64"],
  "mac-arm64-metal": ["darwin", "arm64"],
  "mac-x64": ["darwin", "x64"],
  "win-arm64": ["win32", "arm64"],
  "win-x64": ["win32", "x64"],
  "win-x64-cuda": ["win32", "x64"],
  "win-x64-cuda-ext": ["win32", "x64"],
  "win-x64-vulkan": ["win32", "x64"],
};
const parent = lock.packages["node_modules/node-llama-cpp"];
let added = 0;
for (const [name, version] of Object.entries(parent?.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key] !== undefined) continue;
  const platform = platforms[name.replace("@node-llama-cpp/", "")];
  if (platform === undefined) throw new Error(`unknown node-llama-cpp platform package ${name}`);
  lock.packages[key] = { version, cpu: [platform[1]], license: "MIT", optional: true, os: [platform[0]] };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lockfile: added ${added} platform entr${added === 1 ? "y" : "ies"}`);
