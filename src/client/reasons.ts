/**
 * @module Why an upload is paused, rejected or failed, worded for people in the uploader's language
 * and coded for programs: from the string table, from the server's `ERR_CODE: detail`, or from a
 * failed request.
 */
import { ApiError } from './api-client';
import type { Localizer, Params, StringKey } from './i18n/localizer';

/** Why an upload is paused, rejected or failed: a stable code for programs, a sentence for people. */
export interface Reason {
  /** A string-table key (`reason.offline`), a server code (`ERR_TYPE_MISMATCH`) or `ERR_CLIENT`. */
  code: string;
  /** In the uploader's language. */
  text: string;
}

export class Reasons {
  constructor(private readonly l10n: Localizer) {}

  /** A reason from the string table. */
  of(key: StringKey, params?: Params): Reason {
    return { code: key, text: this.l10n.t(key, params) };
  }

  /** The server's reason (`ERR_CODE: detail`) with the code in words where the table knows it. */
  fromServer(reason: string | undefined, fallback: Reason): Reason {
    if (!reason) return fallback;
    const [code = '', ...rest] = reason.split(': ');
    if (!/^ERR_[A-Z0-9_]+$/.test(code)) return { code: fallback.code, text: reason };
    const words = this.codeInWords(code);
    return { code, text: words ? `${words} ${rest.join(': ')}`.trim() : reason };
  }

  /**
   * Why a request ended the upload, for a person: the code in words where the table knows it, else
   * the server's own message; a request with no answer, or an answer that is not ours, in words of
   * the table too. The codes stay what they were (`ERR_…`, `HTTP_<status>`, `ERR_CLIENT`).
   */
  fromError(error: unknown): Reason {
    if (!(error instanceof ApiError)) {
      return { code: 'ERR_CLIENT', text: this.l10n.t('reason.unexpected', { detail: error instanceof Error ? error.message : String(error) }) };
    }
    const code = error.code ?? `HTTP_${error.status}`;
    if (error.status === 0) return { code, text: this.l10n.t('reason.network') };
    if (!error.code) return { code, text: this.l10n.t('reason.httpStatus', { status: error.status }) };
    return { code, text: this.codeInWords(error.code) ?? error.message };
  }

  /** A server error code in words, or undefined when the table does not know it. */
  private codeInWords(code: string): string | undefined {
    const key = `reason.${code}`;
    return this.l10n.has(key) ? this.l10n.t(key as StringKey) : undefined;
  }
}
