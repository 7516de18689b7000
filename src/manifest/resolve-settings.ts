import type {
  BackupCode,
  BackupServer,
  Compression,
  DumpSettings,
  Encryption,
  Format,
  PgSQLNode,
  Retention,
} from './generated/manifest-types.ts';

/** A definition's dump settings after its node's, then its server's, then pgbackman's defaults filled the gaps. */
export interface EffectiveSettings {
  readonly code: BackupCode;
  readonly format: Format;
  readonly jobs: number;
  readonly compression: Compression | undefined;
  /** `period` is absent when tiers (`keep`) are set and no layer sets a period: the tiers replace it. */
  readonly retention: {
    readonly period?: string;
    readonly redundancy: number;
    readonly keep?: NonNullable<Retention['keep']>;
  };
  readonly timezone: string;
  readonly extraArgs: readonly string[];
  readonly includeRoles: boolean;
  readonly includeDatabaseConfig: boolean;
  /** The longest a dump may take (a duration such as `24h`): past it the run is stopped and recorded TIMEOUT. */
  readonly timeout: string;
  /** How every file of the dump is encrypted as it is written; undefined: it is not. */
  readonly encryption: Encryption | undefined;
}

/** pgbackman's own defaults, as PgBackMan had them: FULL dumps kept 7 days, at least 1 kept. */
export const BUILTIN_SETTINGS: EffectiveSettings = {
  code: 'FULL',
  format: 'custom',
  jobs: 1,
  compression: undefined,
  retention: { period: '7d', redundancy: 1 },
  timezone: 'UTC',
  extraArgs: [],
  includeRoles: true,
  includeDatabaseConfig: true,
  timeout: '24h',
  encryption: undefined,
};

export type SettingOrigin = 'own' | 'node' | 'server' | 'server-spec' | 'builtin';

/** Which layer a setting came from, so an error can name the manifest to fix. */
export function settingOrigin(
  field: keyof DumpSettings,
  own: DumpSettings,
  node: Pick<PgSQLNode, 'spec'> | undefined,
  server: Pick<BackupServer, 'spec'> | undefined,
): SettingOrigin {
  if (own[field] !== undefined) return 'own';
  if (node?.spec.defaults?.[field] !== undefined) return 'node';
  if (server?.spec.defaults?.[field] !== undefined) return 'server';
  if (field === 'encryption' && server?.spec.encryption !== undefined) return 'server-spec';
  return 'builtin';
}

/**
 * Field by field, the first of: the object's own settings, the node's defaults, the server's defaults, the
 * built-in. Default extraArgs are pg_dump options, so a CLUSTER dump (pg_dumpall) only uses its own.
 */
export function resolveSettings(
  own: DumpSettings,
  node: Pick<PgSQLNode, 'spec'> | undefined,
  server: Pick<BackupServer, 'spec'> | undefined,
): EffectiveSettings {
  const layers: DumpSettings[] = [own, node?.spec.defaults ?? {}, server?.spec.defaults ?? {}];
  const pick = <K extends keyof DumpSettings>(key: K): DumpSettings[K] | undefined =>
    layers.find((l) => l[key] !== undefined)?.[key];
  const retention = <K extends keyof Retention>(key: K): Retention[K] | undefined =>
    layers.find((l) => l.retention?.[key] !== undefined)?.retention?.[key];
  // Tiers are taken whole from the nearest layer that sets them, not merged tier by tier.
  const keep = retention('keep');
  const period = retention('period') ?? (keep === undefined ? BUILTIN_SETTINGS.retention.period : undefined);
  const code = pick('code') ?? BUILTIN_SETTINGS.code;
  return {
    code,
    format: pick('format') ?? BUILTIN_SETTINGS.format,
    jobs: pick('jobs') ?? BUILTIN_SETTINGS.jobs,
    compression: pick('compression'),
    retention: {
      ...(period === undefined ? {} : { period }),
      redundancy: retention('redundancy') ?? BUILTIN_SETTINGS.retention.redundancy,
      ...(keep === undefined ? {} : { keep }),
    },
    timezone: pick('timezone') ?? BUILTIN_SETTINGS.timezone,
    extraArgs: (code === 'CLUSTER' ? own.extraArgs : pick('extraArgs')) ?? BUILTIN_SETTINGS.extraArgs,
    includeRoles: pick('includeRoles') ?? BUILTIN_SETTINGS.includeRoles,
    includeDatabaseConfig: pick('includeDatabaseConfig') ?? BUILTIN_SETTINGS.includeDatabaseConfig,
    timeout: pick('timeout') ?? BUILTIN_SETTINGS.timeout,
    // The server's spec.encryption (as the storage example puts it) is the last layer before none.
    encryption: pick('encryption') ?? server?.spec.encryption,
  };
}

/** Each effective setting a definition does not set itself, and which layer it came from. */
export function inheritedSettings(
  own: DumpSettings,
  node: Pick<PgSQLNode, 'spec'> | undefined,
  server: Pick<BackupServer, 'spec'> | undefined,
): Partial<Record<keyof EffectiveSettings, Exclude<SettingOrigin, 'own'>>> {
  const fields = Object.keys(BUILTIN_SETTINGS) as (keyof EffectiveSettings)[];
  return Object.fromEntries(
    fields
      .map((f) => [f, settingOrigin(f, own, node, server)] as const)
      .filter(([, origin]) => origin !== 'own'),
  );
}
