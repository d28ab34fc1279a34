import { describe, expect, it } from "vitest";
import { defaultAllowedHosts, isLoopbackHost, parseHostHeader } from "./browser-guard.js";
import { isJsonContentType } from "./body.js";

describe("Host parsing and defaults", () => {
  it("parses host[:port], IPv6 in brackets, and refuses anything else", () => {
    expect(parseHostHeader("LocalHost:8080")).toEqual({ hostname: "localhost", port: "8080" });
    expect(parseHostHeader("[::1]:8080")).toEqual({ hostname: "::1", port: "8080" });
    expect(parseHostHeader("example.com.")).toEqual({ hostname: "example.com", port: undefined });
    for (const bad of ["user@evil.example", "a b", "evil.example/path", "::1", "host:port", ""]) expect(parseHostHeader(bad)).toBeUndefined();
  });

  it("knows the loopback names and addresses", () => {
    for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "app.localhost"]) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["0.0.0.0", "::", "192.168.1.2", "example.com", "localhost.example.com"]) expect(isLoopbackHost(h)).toBe(false);
  });

  it("loopback binds accept only loopback names by default; other binds any; a given list wins", () => {
    expect(defaultAllowedHosts("127.0.0.1", undefined)).toEqual(["localhost", "127.0.0.1", "::1", "127.0.0.1"]);
    expect(defaultAllowedHosts("0.0.0.0", undefined)).toEqual(["*"]);
    expect(defaultAllowedHosts("::", undefined)).toEqual(["*"]);
    expect(defaultAllowedHosts("0.0.0.0", ["a.lan"])).toEqual(["a.lan", "0.0.0.0"]);
  });
});

describe("isJsonContentType", () => {
  it("accepts application/json (any case, parameters) and application/*+json only", () => {
    for (const t of ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/problem+json", " application/json "]) {
      expect(isJsonContentType(t)).toBe(true);
    }
    for (const t of [undefined, "", "text/plain", "text/json", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonx", "application/json-seq"]) {
      expect(isJsonContentType(t)).toBe(false);
    }
  });
});
