/**
 * @module Fan-out of session events to subscribers: hibernatable WebSockets (accepted here, in
 * the Durable Object, so they survive eviction) and SSE streams (in memory; SSE cannot hibernate).
 * Progress uses a leading-edge throttle: the first change after a quiet period goes out at once,
 * later ones within the window collapse into one trailing message. State changes go out at once,
 * after any pending progress, so subscribers never see progress out of order.
 */
import type { EventMessage, ProgressFields } from '../protocol/messages';

const encoder = new TextEncoder();

export class ProgressHub {
  private readonly eventStreams = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private lastProgressAt = 0;
  private lastSentBytes = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly currentProgress: () => ProgressFields | null,
    private readonly intervalMs = 250,
  ) {}

  /** Accepts a hibernatable WebSocket and greets it with `first` (the snapshot). */
  acceptWebSocket(first: EventMessage): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.send(JSON.stringify(first));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Opens an SSE stream greeted with `first`. */
  acceptEventStream(first: EventMessage): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    this.eventStreams.add(writer);
    this.write(writer, `retry: 2000\n\n`);
    this.write(writer, frame(first));
    return new Response(readable, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
    });
  }

  /** Sends one message to a single WebSocket (e.g. a snapshot on request). */
  sendTo(ws: WebSocket, message: EventMessage): void {
    try {
      ws.send(JSON.stringify(message));
    } catch {
      // The socket closed under us; its close handler cleans up.
    }
  }

  /** Confirmed progress changed: broadcast now or coalesce into the trailing message. */
  progressChanged(): void {
    const wait = this.lastProgressAt + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.flushProgress();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flushProgress(), wait);
    }
  }

  /** A state change: pending progress first, then the state, both at once. */
  broadcast(message: EventMessage): void {
    if (this.timer) this.flushProgress();
    this.send(message);
  }

  private flushProgress(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const progress = this.currentProgress();
    if (!progress || progress.confirmedBytes === this.lastSentBytes) return;
    this.lastProgressAt = Date.now();
    this.lastSentBytes = progress.confirmedBytes;
    this.send({ type: 'progress', ...progress });
  }

  private send(message: EventMessage): void {
    const data = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(data);
      } catch {
        // Closed or closing: nothing to deliver to.
      }
    }
    const sse = frame(message);
    for (const writer of this.eventStreams) this.write(writer, sse);
  }

  private write(writer: WritableStreamDefaultWriter<Uint8Array>, text: string): void {
    writer.write(encoder.encode(text)).catch(() => this.eventStreams.delete(writer));
  }
}

// No `event:` field: EventSource.onmessage sees every message; the JSON carries its `type`.
const frame = (message: EventMessage): string => `data: ${JSON.stringify(message)}\n\n`;
