import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { invokeHint, parseArgs, pickCapability, type NodeInfo } from "./nodes";

describe("parseArgs", () => {
  it("accepts a JSON object, or nothing", () => {
    expect(parseArgs('{"path": "/tmp", "n": 2}')).toEqual({ args: { path: "/tmp", n: 2 } });
    expect(parseArgs("  \n")).toEqual({ args: undefined });
  });
  it("refuses other JSON values and broken JSON", () => {
    for (const text of ["[1]", "null", "3", '"x"', "{path: 1}", "{"]) {
      expect(parseArgs(text)).toHaveProperty("error");
    }
  });
});

describe("invokeHint", () => {
  it("explains the invoke error codes", () => {
    expect(invokeHint(new ApiError(504, "NODE_TIMEOUT", "timed out"))).toMatch(/invoke_timeout_secs/);
    expect(invokeHint(new ApiError(502, "NODE_DISCONNECTED", "gone"))).toMatch(/went away/);
    expect(invokeHint(new ApiError(404, "NODE_NOT_FOUND", "no"))).toMatch(/not connected/);
    expect(invokeHint(new ApiError(400, "UNKNOWN_CAPABILITY", "no"))).toMatch(/advertise/);
    expect(invokeHint(new ApiError(500, "INTERNAL_ERROR", "bug"))).toBeNull();
    expect(invokeHint(new Error("x"))).toBeNull();
  });
});

describe("pickCapability", () => {
  const node: NodeInfo = {
    node_id: "n",
    capability_count: 2,
    capabilities: [
      { name: "camera.snap", description: "" },
      { name: "screen.record", description: "" },
    ],
  };
  it("keeps a capability the node has, else takes its first", () => {
    expect(pickCapability(node, "screen.record")).toBe("screen.record");
    expect(pickCapability(node, "gone")).toBe("camera.snap");
    expect(pickCapability({ ...node, capabilities: [] }, "gone")).toBe("");
    expect(pickCapability(undefined, "x")).toBe("");
  });
});
