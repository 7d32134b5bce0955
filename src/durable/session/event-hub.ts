/**
 * @module The session's events endpoint and hub: every event (snapshot, progress, state,
 * derivative) to every subscriber, over hibernatable WebSockets (accepted here, in the Durable
 * Object, so they survive eviction) and SSE streams (in memory; SSE cannot hibernate).
 * Bounded: at most MAX_SUBSCRIBERS per upload, and a socket's snapshot requests are answered at
 * most once per SNAPSHOT_INTERVAL_MS, so a subscriber cannot turn one frame into unbounded work.
 * Progress uses a leading-edge throttle: the first change after a quiet period goes out at once,
 * later ones within the window collapse into one trailing message. State changes go out at once,
 * after any pending progress, so subscribers never see progress out of order.
 */
import { fail, ok, type Result } from '../../domain/errors';
import type { EventMessage, ProgressFields } from '../../contracts/messages';

const encoder = new TextEncoder();
export const MAX_SUBSCRIBERS = 32;
export const SNAPSHOT_INTERVAL_MS = 1_000;

export class EventHub {
  private readonly eventStreams = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private lastProgressAt = 0;
  private lastSentBytes = -1;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly currentProgress: () => ProgressFields | null,
    private readonly intervalMs = 250,
  ) {}

  /** Opens a WebSocket (on `Upgrade: websocket`) or an SSE stream, greeted with `snapshot`; refused past the cap. */
  subscribe(request: Request, snapshot: EventMessage): Result<Response> {
    if (this.ctx.getWebSockets().length + this.eventStreams.size >= MAX_SUBSCRIBERS) {
      return fail('ERR_TOO_MANY_SUBSCRIBERS', `At most ${MAX_SUBSCRIBERS} subscribers may follow one upload.`, { limit: MAX_SUBSCRIBERS });
    }
    const socket = request.headers.get('Upgrade')?.toLowerCase() === 'websocket';
    return ok(socket ? this.acceptWebSocket(snapshot) : this.acceptEventStream(snapshot));
  }

  /**
   * A text frame other than the auto-answered "ping" asks for a fresh snapshot: answered at most
   * once per interval per socket (the time is kept in the socket's attachment, across hibernation).
   */
  snapshotRequested(ws: WebSocket, snapshot: () => EventMessage | null, now = Date.now()): void {
    const last = (ws.deserializeAttachment() as { snapshotAt?: number } | null)?.snapshotAt ?? 0;
    if (now - last < SNAPSHOT_INTERVAL_MS) return;
    ws.serializeAttachment({ snapshotAt: now });
    const message = snapshot();
    if (message) this.sendTo(ws, message);
  }

  private acceptWebSocket(first: EventMessage): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    // The greeting counts as the socket's first snapshot.
    server.serializeAttachment({ snapshotAt: Date.now() });
    server.send(JSON.stringify(first));
    return new Response(null, { status: 101, webSocket: client });
  }

  private acceptEventStream(first: EventMessage): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    this.eventStreams.add(writer);
    this.write(writer, `retry: 2000\n\n`);
    this.write(writer, frame(first));
    return new Response(readable, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
    });
  }

  private sendTo(ws: WebSocket, message: EventMessage): void {
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
