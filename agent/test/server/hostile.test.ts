/**
 * Bad input on the compile port: each gets a logged, specific reason and a closed connection,
 * nothing is left on disk, and the agent keeps serving everyone else.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { encodeArgv, encodeBody, encodeHeader } from "../../src/protocol/encode.ts";
import { type Agent, jobLeftovers, startAgent } from "../helpers/agent.ts";
import { compileRequest, concat, exchange, parseReply } from "../helpers/tokens.ts";
import { GCC } from "../helpers/toolchain.ts";

let agent: Agent;
beforeAll(async () => {
  agent = await startAgent();
});
afterAll(async () => {
  await agent[Symbol.asyncDispose]();
});

const text = (s: string) => new TextEncoder().encode(s);
const good = compileRequest(2, [GCC, "-c", "x.c", "-o", "x.o"], "int x = 1;\n");

test.each([
  ["garbage bytes", text("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"), /not a distcc token/],
  ["an HTTP request", text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /not a distcc token: "GET \/ HTTP\/1/],
  ["bad hex", text("DIST0000000z"), /bad hex value in packet header "DIST0000000z"/],
  ["protocol version 4", encodeHeader("DIST", 4), /unsupported protocol version 4/],
  ["ARGC 0", concat([encodeHeader("DIST", 1), encodeHeader("ARGC", 0)]), /ARGC is 0/],
  ["a huge ARGC", concat([encodeHeader("DIST", 1), encodeHeader("ARGC", 0x7fffffff)]), /ARGC 2147483647 exceeds the limit/],
  [
    "a huge ARGV",
    concat([encodeHeader("DIST", 1), encodeHeader("ARGC", 1), encodeHeader("ARGV", 0x7fffffff)]),
    /ARGV string of 2147483647 bytes exceeds/,
  ],
  [
    "a huge DOTI",
    concat([encodeHeader("DIST", 1), ...encodeArgv([GCC, "-c", "x.c"]), encodeHeader("DOTI", 0xffffffff)]),
    /DOTI body of 4294967295 bytes exceeds/,
  ],
  ["tokens out of order", concat([encodeHeader("DIST", 1), ...encodeBody("DOTI", text("x"))]), /expected token "ARGC", got "DOTI"/],
  [
    "a corrupt LZO body",
    concat([encodeHeader("DIST", 2), ...encodeArgv([GCC, "-c", "x.c"]), ...encodeBody("DOTI", text("int main(void) { return 0; }"))]),
    /LZO|compressed/,
  ],
])("%s: closed with no reply and a logged reason", async (_name, bytes, reason) => {
  const before = agent.log().length;
  expect((await exchange(agent.port, bytes)).length).toBe(0);
  await agent.waitForLog(/bad request from 127\.0\.0\.1:\d+/, { since: before });
  expect(agent.log().slice(before)).toMatch(reason);
  expect(parseReply(await exchange(agent.port, good)).status).toBe(0);
});

test("a truncated stream is logged as such and leaves no temp dir", async () => {
  const before = agent.log().length;
  expect((await exchange(agent.port, good.subarray(0, good.length - 5), { hangUp: true })).length).toBe(0);
  await agent.waitForLog(/closed the connection before its request was complete \(truncated stream\)/, { since: before });
  expect(agent.log().slice(before)).toContain("truncated");
  expect(parseReply(await exchange(agent.port, good)).status).toBe(0);
});

test("nothing is left in the agent's temp dir", () => {
  expect(jobLeftovers(agent.tmpDir)).toEqual([]);
});
