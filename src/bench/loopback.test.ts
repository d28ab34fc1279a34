import { describe, expect, it } from "vitest";
import { assertLoopbackTarget, isLoopbackAddress, RemoteTargetError } from "./loopback.js";

describe("isLoopbackAddress", () => {
  it("accepts 127.0.0.0/8, ::1 and IPv4-mapped loopback", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1"]) expect(isLoopbackAddress(a), a).toBe(true);
  });
  it("rejects everything else", () => {
    for (const a of ["10.0.0.1", "0.0.0.0", "192.168.1.1", "::", "::ffff:10.0.0.1", "::ffff:a00:1", "fe80::1", "localhost", "128.0.0.1"]) expect(isLoopbackAddress(a), a).toBe(false);
  });
});

describe("assertLoopbackTarget", () => {
  const resolveTo = (addresses: string[]) => async () => addresses;

  it("allows loopback literals and names that resolve only to loopback", async () => {
    await expect(assertLoopbackTarget("http://127.0.0.1:8080")).resolves.toBeUndefined();
    await expect(assertLoopbackTarget("http://[::1]:8080/v1")).resolves.toBeUndefined();
    await expect(assertLoopbackTarget("http://localhost:8080", { resolve: resolveTo(["127.0.0.1", "::1"]) })).resolves.toBeUndefined();
  });

  it("refuses remote targets unless allowed", async () => {
    await expect(assertLoopbackTarget("http://10.1.2.3:8000")).rejects.toThrow(RemoteTargetError);
    await expect(assertLoopbackTarget("http://10.1.2.3:8000")).rejects.toThrow(/--allow-remote/);
    await expect(assertLoopbackTarget("https://api.example.com", { resolve: resolveTo(["93.184.216.34"]) })).rejects.toThrow(RemoteTargetError);
    // a name resolving to loopback AND a public address is refused
    await expect(assertLoopbackTarget("http://mixed.test", { resolve: resolveTo(["127.0.0.1", "8.8.8.8"]) })).rejects.toThrow(/8\.8\.8\.8/);
    await expect(assertLoopbackTarget("http://10.1.2.3:8000", { allowRemote: true })).resolves.toBeUndefined();
  });

  it("refuses unresolvable names, bad URLs and other protocols", async () => {
    await expect(assertLoopbackTarget("http://nowhere.test", { resolve: async () => { throw new Error("ENOTFOUND"); } })).rejects.toThrow(/cannot resolve/);
    await expect(assertLoopbackTarget("not a url")).rejects.toThrow(RemoteTargetError);
    await expect(assertLoopbackTarget("ftp://127.0.0.1/")).rejects.toThrow(/protocol/);
  });
});
