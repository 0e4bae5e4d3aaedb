/**
 * @module `GET /api/events`: the board's changes as Server-Sent Events (`started`, `phase`,
 * `finished`, each with the job as JSON). A reader that falls behind is cut off rather than
 * buffered for, and the number of readers is capped, so memory stays bounded; EventSource
 * reconnects by itself and the page then asks for everything again.
 */
import type { JobBoard } from "./job-board.ts";
import type { JobEvent } from "./job-events.ts";

/** Open event streams at most, all clients together. */
export const MAX_EVENT_STREAMS = 32;
/** Events waiting for one slow reader before it is cut off (about 0.5 MiB of them). */
const MAX_PENDING_EVENTS = 1000;
/**
 * A comment line this often keeps a quiet stream open: Bun.serve closes a connection after 10 s
 * without traffic, and proxies and load balancers after their own idle times.
 */
const KEEPALIVE_MS = 5000;

const encoder = new TextEncoder();
/** One event goes to every reader: it is encoded once. */
const frames = new WeakMap<JobEvent, Uint8Array>();

function eventFrame(event: JobEvent): Uint8Array {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(event.job)}\n\n`);
    frames.set(event, frame);
  }
  return frame;
}

const HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" };

/** The response for one reader; undefined when MAX_EVENT_STREAMS are open. */
export function eventStream(board: JobBoard, request: Request): Response | undefined {
  if (board.observerCount >= MAX_EVENT_STREAMS) return undefined;
  // Nobody reads a HEAD response's body: no stream, or it would observe the board for ever.
  if (request.method === "HEAD") return new Response(null, { headers: HEADERS });
  const { signal } = request;
  let stop: () => void = () => {};
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const keepalive = setInterval(() => controller.enqueue(encoder.encode(": keepalive\n\n")), KEEPALIVE_MS);
        const unobserve = board.observe((event) => {
          if ((controller.desiredSize ?? 0) <= 0) {
            stop();
            controller.close();
            return;
          }
          controller.enqueue(eventFrame(event));
        });
        stop = () => {
          clearInterval(keepalive);
          unobserve();
          signal.removeEventListener("abort", stop);
        };
        signal.addEventListener("abort", stop, { once: true });
        controller.enqueue(encoder.encode("retry: 2000\n: distccd job events\n\n"));
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: MAX_PENDING_EVENTS, size: () => 1 },
  );
  return new Response(body, { headers: HEADERS });
}
