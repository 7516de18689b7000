import type { Diagnostic } from '../../manifest/diagnostic.ts';
import { formatDiagnostic } from '../../manifest/diagnostic.ts';
import {
  type ValidationResult,
  validateManifests,
  validationSummary,
} from '../../manifest/validate-manifests.ts';
import { ExitCode } from '../exit-codes.ts';
import { type Output, paint } from '../output.ts';

export interface ValidateFlags {
  readonly output: 'text' | 'json';
  readonly maxFileSize: number;
}

/** `pgbackman validate`: every problem at once, then a one-line summary; exit 0 only when all is valid. */
export async function runValidate(
  paths: readonly string[],
  flags: ValidateFlags,
  output: Output,
): Promise<ExitCode> {
  const result = await validateManifests(paths, { maxFileBytes: flags.maxFileSize });
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  if (flags.output === 'json') output.out.write(`${JSON.stringify(toJson(result, errors), null, 2)}\n`);
  else {
    for (const d of result.diagnostics) {
      const line = formatDiagnostic(d);
      output.err.write(`${paint(output, d.severity === 'error' ? 'red' : 'yellow', line)}\n`);
    }
    output.out.write(`${validationSummary(result)}\n`);
  }
  return errors === 0 ? ExitCode.Ok : ExitCode.Failure;
}

/** A documented, versioned shape (see docs/cli.md), close to `terraform validate -json`. */
function toJson(r: ValidationResult, errors: number) {
  return {
    format_version: '1.0',
    valid: errors === 0,
    error_count: errors,
    warning_count: r.diagnostics.length - errors,
    summary: {
      text: validationSummary(r),
      files: r.files,
      unreadable_files: r.unreadableFiles,
      yaml_error_files: r.yamlErrorFiles,
      resources: r.resourceCount,
      valid: r.resourceCount - r.invalidCount,
      invalid: r.invalidCount,
    },
    diagnostics: r.diagnostics.map(jsonDiagnostic),
  };
}

function jsonDiagnostic(d: Diagnostic) {
  return {
    severity: d.severity,
    summary: d.message,
    address: d.address ?? null,
    pointer: d.pointer ?? null,
    range: { filename: d.file, start: d.range.start, end: d.range.end },
  };
}
