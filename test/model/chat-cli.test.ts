/**
 * `talaria chat` reading its messages from a pipe (`printf 'hi\nagain\n' | talaria chat --model M`):
 * every line is answered, in order, including lines that arrive while the model loads or replies;
 * the chat ends after the last one when the input closes. In-process, on a generated scripted model.
 */
import { PassThrough } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { runChat } from "../../src/cli/commands/chat.js";
import { ensureTestModel } from "../../src/testmodels/index.js";

const REPLY = "Hello from Talaria.";
let model: string;

beforeAll(async () => {
  model = await ensureTestModel({ kind: "scripted", reply: REPLY });
});

const options = () => ({ model, style: "card", maxTokens: 32, temperature: 0, threads: 1, contextSize: 1024 });

function sink(): { write(text: string): void; text(): string } {
  let out = "";
  return { write: (t) => void (out += t), text: () => out };
}

describe("talaria chat with piped input", () => {
  it("answers every line piped in before it loaded, in order, then ends when the input closes", async () => {
    const input = new PassThrough();
    input.end("hi\nagain\n"); // all of it arrives (and the pipe closes) before the model has loaded
    const output = sink();
    const notes = sink();
    await runChat(options(), { output, notes, input });
    expect(output.text().split(REPLY)).toHaveLength(3); // two replies
    expect(output.text()).toBe(`> ${REPLY}\n> ${REPLY}\n> `);
    expect(notes.text()).not.toContain("error");
  });

  it("answers lines that arrive while it replies, and a last line without a newline", async () => {
    const input = new PassThrough();
    const output = sink();
    const notes = sink();
    let replies = 0;
    const watched = {
      write: (t: string) => {
        output.write(t);
        // The second and third lines arrive while the first reply streams.
        if (t.includes("Hello") && replies++ === 0) input.end("two\nthree");
      },
    };
    input.write("one\n");
    await runChat(options(), { output: watched, notes, input });
    expect(output.text().split(REPLY)).toHaveLength(4); // three replies
  });
});
