/**
 * @module Live server events for one upload: the events WebSocket, reconnected with exponential
 * backoff; SSE when WebSockets keep failing; polling the manifest as the last resort.
 */
import type { EventMessage } from '../contracts/messages';
import type { ApiClient } from './api-client';
import { backoffDelay } from './retry-policy';

type Mode = 'ws' | 'sse' | 'poll';

const FAILURES_BEFORE_FALLBACK = 3;
const POLL_MS = 1000;
const PING_MS = 30_000;

export class ProgressFeed {
  private mode: Mode;
  private failures = 0;
  private stopped = false;
  private socket: WebSocket | undefined;
  private source: EventSource | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ping: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly uploadId: string,
    private readonly token: string,
    private readonly onMessage: (message: EventMessage) => void,
  ) {
    this.mode = typeof WebSocket !== 'undefined' ? 'ws' : typeof EventSource !== 'undefined' ? 'sse' : 'poll';
  }

  get transport(): Mode {
    return this.mode;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.ping);
    this.socket?.close(1000, 'done');
    this.source?.close();
    this.socket = undefined;
    this.source = undefined;
  }

  private connect(): void {
    if (this.stopped) return;
    if (this.mode === 'ws') this.openSocket();
    else if (this.mode === 'sse') this.openEventSource();
    else this.poll();
  }

  private deliver(data: unknown): void {
    if (typeof data !== 'string') return;
    try {
      this.onMessage(JSON.parse(data) as EventMessage);
    } catch {
      // Not JSON ("pong"): ignore.
    }
  }

  private openSocket(): void {
    const socket = new WebSocket(this.api.eventsUrl(this.uploadId, this.token, 'ws'));
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.failures = 0;
      clearInterval(this.ping);
      this.ping = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send('ping'), PING_MS);
    });
    socket.addEventListener('message', (event) => this.deliver(event.data));
    socket.addEventListener('close', () => {
      clearInterval(this.ping);
      if (this.socket !== socket || this.stopped) return;
      this.retry(typeof EventSource !== 'undefined' ? 'sse' : 'poll');
    });
  }

  private openEventSource(): void {
    const source = new EventSource(this.api.eventsUrl(this.uploadId, this.token, 'http'));
    this.source = source;
    source.onopen = () => {
      this.failures = 0;
    };
    source.onmessage = (event) => this.deliver(event.data);
    source.onerror = () => {
      if (this.source !== source || this.stopped) return;
      source.close();
      this.retry('poll');
    };
  }

  private retry(fallback: Mode): void {
    this.failures += 1;
    if (this.failures >= FAILURES_BEFORE_FALLBACK) {
      this.mode = fallback;
      this.failures = 0;
    }
    this.timer = setTimeout(() => this.connect(), backoffDelay(this.failures + 1, { baseMs: 250, maxMs: 10_000 }));
  }

  private poll(): void {
    if (this.stopped) return;
    this.api
      .manifest(this.uploadId, this.token)
      .then((manifest) => this.onMessage({ type: 'snapshot', manifest }))
      .catch(() => undefined)
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.poll(), POLL_MS);
      });
  }
}
