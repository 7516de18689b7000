import { assertNever } from '../errors.ts';
import type { DatabaseConfig } from './config-file.ts';
import type { RestoreStep } from './restore-steps.ts';
import type { RolesFile } from './roles-file.ts';
import { createMissingRoles } from './roles-file.ts';
import { quoteIdent, quoteLiteral } from './sql-text.ts';

/** One step as the plan (and --dry-run) shows it: what it does, and exactly what it runs. */
export interface StepLine {
  readonly summary: string;
  readonly commands: readonly string[];
}

export interface StepContext {
  readonly config: DatabaseConfig;
  readonly roles: RolesFile;
  readonly present: ReadonlySet<string>;
  readonly tool: (name: 'pg_restore' | 'psql') => string;
  readonly command: (step: Extract<RestoreStep, { kind: 'restore-data' }>) => readonly string[];
  /** An encrypted dump's file, decrypted by pgbackman into the tool's stdin. */
  readonly decrypting?: string | undefined;
  /** More than one job asked for a dump that pg_restore cannot read in parallel (plain, tar). */
  readonly jobsIgnored?: boolean;
}

/** Pure. Passwords never appear: the tools get theirs in PGPASSWORD, and role passwords are hashes. */
export function describeStep(step: RestoreStep, c: StepContext): StepLine {
  switch (step.kind) {
    case 'check-dump':
      return {
        summary: 're-hash the dump against its recorded checksums, and read its table of contents',
        commands: [],
      };
    case 'create-roles':
      return {
        summary: `create missing roles: ${step.roles.join(', ')}`,
        commands: createMissingRoles(c.roles, c.present).map(hidePassword),
      };
    case 'keep-roles':
      return { summary: `keep existing roles as they are: ${step.roles.join(', ')}`, commands: [] };
    case 'terminate-connections':
      return {
        summary: `terminate ${step.sessions} session(s) on database "${step.database}"`,
        commands: [
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${quoteLiteral(step.database)}`,
        ],
      };
    case 'rename-database':
      return {
        summary: `rename existing database "${step.from}" to "${step.to}"`,
        commands: [`ALTER DATABASE ${quoteIdent(step.from)} RENAME TO ${quoteIdent(step.to)}`],
      };
    case 'drop-database':
      return {
        summary: `drop existing database "${step.database}"`,
        commands: [`DROP DATABASE ${quoteIdent(step.database)}`],
      };
    case 'create-database':
      return {
        summary: `create database "${step.database}"${step.config ? " with the dump's configuration" : ''}`,
        commands: step.config
          ? c.config.statements
          : [`CREATE DATABASE ${quoteIdent(step.database)} TEMPLATE template0`],
      };
    case 'restore-data':
      return {
        summary: `${step.tool === 'psql' ? 'run the SQL dump with psql' : 'pg_restore the dump'} into ${step.into === 'new' ? 'the new' : 'the existing'} database${c.jobsIgnored ? (c.decrypting === undefined ? ' (--jobs applies to custom and directory dumps only: one job)' : ' (an encrypted dump is read as it is decrypted: one job)') : ''}`,
        commands: [
          [c.tool(step.tool), ...c.command(step)].map(shellWord).join(' ') +
            (c.decrypting === undefined ? '' : ` < ${shellWord(c.decrypting)} (decrypted as it streams)`),
        ],
      };
    default:
      return assertNever(step, 'restore step');
  }
}

function hidePassword(sql: string): string {
  return sql.replace(/ PASSWORD '(?:[^']|'')*'/, " PASSWORD '…'");
}

/** For display only (nothing runs through a shell): quoted when it holds anything a shell would read. */
function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return /^[^"$`\\!]*$/.test(word) ? `"${word}"` : `'${word.replaceAll("'", "'\\''")}'`;
}
