import { assertNever } from '../errors.ts';
import { redactSecrets } from '../observability/redact-secrets.ts';
import type { AlertEvent, RunStatus } from './alert-rules.ts';

/** What a message says, as queued (alert_messages.payload): facts of the run, never a secret. */
export interface AlertFacts {
  readonly event: AlertEvent;
  readonly kind: 'BackupDefinition' | 'SnapshotDefinition' | 'RestoreDefinition' | 'BackupServer';
  readonly definition: string;
  readonly server: string;
  readonly node: string;
  /** null for a CLUSTER dump. */
  readonly database: string | null;
  /** The dump (for a restore: the dump restored); null when the run could not be recorded, or none was picked. */
  readonly runId: string | null;
  readonly status: RunStatus;
  readonly error: string | null;
  readonly errorCode: string | null;
  /** The last lines of what the tools said, redacted. */
  readonly logTail: string | null;
  readonly durationMs: number;
  /** When the run ended (ISO 8601). */
  readonly at: string;
  /** The agent's status page, when its operator gave one (--status-url). */
  readonly statusUrl: string | null;
}

/** At most this much of a log goes into a message: its last lines, which say why. */
const TAIL_LINES = 20;
const TAIL_CHARS = 4000;

/** The end of `text`, redacted: the lines that say why a tool failed, without a password that was in them. */
export function logTailOf(text: string | null): string | null {
  if (text === null || text.trim() === '') return null;
  const lines = redactSecrets(text).trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  return lines.length > TAIL_CHARS ? `…${lines.slice(-TAIL_CHARS)}` : lines;
}

const what = (f: AlertFacts) =>
  `${f.kind}/${f.definition} (${f.database === null ? 'the whole cluster' : `database ${f.database}`} on ${f.node})`;

function headline(f: AlertFacts): string {
  switch (f.event) {
    case 'failed':
      return `FAILED: ${what(f)}`;
    case 'recovered':
      return `RECOVERED: ${what(f)} succeeded again`;
    case 'missed':
      return `MISSED: ${what(f)} did not run when it was due`;
    case 'disk_low':
      return `DISK LOW: BackupServer/${f.definition}: ${f.error ?? 'little free space under its root directory'}`;
    case 'retention_blocked':
      return `RETENTION BLOCKED: a dump of ${what(f)} is kept though its rules delete it`;
    case 'overdue':
      return `OVERDUE: ${what(f)} has no successful dump by its due time`;
    case 'verify_failed':
      return `VERIFY FAILED: the restore test of ${what(f)}`;
    case 'restore_failed':
      return `RESTORE FAILED: ${what(f)}`;
    default:
      return assertNever(f.event);
  }
}

/** An e-mail's subject and plain-text body. Pure. */
export function emailOf(f: AlertFacts): { subject: string; text: string } {
  const lines = [
    headline(f),
    '',
    `Definition: ${f.kind}/${f.definition}`,
    `Node:       ${f.node}`,
    `Database:   ${f.database ?? '(the whole cluster)'}`,
    `Server:     ${f.server}`,
    f.status === 'OVERDUE'
      ? `Last good:  ${f.runId ?? '(none yet)'}`
      : `Run:        ${f.runId ?? '(not recorded)'} (${f.status}, ${Math.round(f.durationMs / 1000)} s, ended ${f.at})`,
    ...(f.error === null ? [] : [`Error:      ${f.errorCode === null ? '' : `[${f.errorCode}] `}${f.error}`]),
    ...(f.logTail === null ? [] : ['', 'Log (last lines):', f.logTail]),
    ...(f.statusUrl === null ? [] : ['', `Status page: ${f.statusUrl}`]),
    '',
    ...(f.runId === null ? [] : [`pgbackman describe backup ${f.runId}`]),
  ];
  return { subject: `[pgbackman] ${headline(f)}`, text: `${lines.join('\n')}\n` };
}

/** A webhook's body: pgbackman's own JSON document, or a Slack-compatible message. Pure. */
export function webhookBodyOf(f: AlertFacts, format: 'json' | 'slack'): string {
  switch (format) {
    case 'json':
      return JSON.stringify({ version: 1, ...f });
    case 'slack': {
      const icon = f.event === 'recovered' ? ':white_check_mark:' : ':x:';
      const detail = [
        f.error === null ? null : `*Error:* ${f.error}`,
        f.logTail === null ? null : `\`\`\`${f.logTail}\`\`\``,
        f.statusUrl === null ? null : `<${f.statusUrl}|Status page>`,
        `${f.runId === null ? 'Run' : `Run \`${f.runId}\``} on ${f.server}, ended ${f.at}`,
      ].filter((l) => l !== null);
      return JSON.stringify({ text: `${icon} *${headline(f)}*\n${detail.join('\n')}` });
    }
    default:
      return assertNever(format);
  }
}
