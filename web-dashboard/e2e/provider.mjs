// A stand-in for an OpenAI-compatible provider, speaking its real wire format: `POST /v1/chat/completions`
// with `stream: true` answers Server-Sent Events of `chat.completion.chunk`s, then a usage chunk and
// `[DONE]`. It echoes the last user message word by word; a message containing "slowly" is streamed at
// 400 ms a word, so a turn can be cancelled while it runs. `GET /v1/models` answers for the doctor.
import http from "node:http";

function chunk(delta, finish = null) {
  return `data: ${JSON.stringify({
    id: "chatcmpl-e2e",
    object: "chat.completion.chunk",
    model: "e2e",
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;
}

export async function startProvider() {
  const server = http.createServer((request, response) => {
    if (request.method === "GET" && request.url === "/v1/models") {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ object: "list", data: [{ id: "e2e", object: "model" }] }));
      return;
    }
    if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
      response.writeHead(404, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    let body = "";
    request.on("data", (data) => (body += data));
    request.on("end", async () => {
      const parsed = JSON.parse(body);
      const users = parsed.messages.filter((message) => message.role === "user");
      const text = String(users.at(-1)?.content ?? "");
      const words = text.split(/\s+/).filter((word) => word.length > 0);
      const pause = text.includes("slowly") ? 400 : 20;
      response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      response.write(chunk({ role: "assistant", content: "" }));
      for (const [index, word] of words.entries()) {
        if (response.destroyed) {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
        response.write(chunk({ content: index === 0 ? word : ` ${word}` }));
      }
      response.write(chunk({}, "stop"));
      response.write(
        `data: ${JSON.stringify({
          id: "chatcmpl-e2e",
          object: "chat.completion.chunk",
          choices: [],
          usage: { prompt_tokens: words.length, completion_tokens: words.length, total_tokens: 2 * words.length },
        })}\n\n`,
      );
      response.end("data: [DONE]\n\n");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/v1`, close: () => server.close() };
}
