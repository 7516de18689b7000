import { assertNever } from '../errors.ts';
import type { Change, FieldChange, Plan } from './change.ts';

export interface TextStyle {
  readonly color: boolean;
  /** What the manifests were compared with when not the catalogue (plan --against). */
  readonly baseline?: string | undefined;
}

const SYMBOL = { create: '+', update: '~', move: '~', delete: '-' } as const;
const COLOR = { '+': 32, '~': 33, '-': 31 } as const;

/** Terraform's plan vocabulary, so reviewers and PR tooling recognise it. */
export function renderText(plan: Plan, style: TextStyle = { color: false }): string {
  const paint = (symbol: '+' | '~' | '-', text: string) =>
    style.color ? `\u001b[${COLOR[symbol]}m${text}\u001b[0m` : text;
  const lines: string[] = [];
  if (plan.changes.length === 0) {
    lines.push(
      style.baseline === undefined
        ? 'No changes. The catalogue matches the manifests.'
        : `No changes. The manifests are the same as at ${style.baseline}.`,
    );
  } else {
    lines.push('pgbackman will perform the following actions:', '');
    for (const c of plan.changes) {
      lines.push(`  # ${headline(c)}`);
      const symbol = SYMBOL[c.action];
      lines.push(paint(symbol, `  ${symbol} ${c.address}`));
      for (const f of details(c)) lines.push(paint(fieldSymbol(f), `      ${fieldLine(f)}`));
      lines.push('');
    }
    const { add, change, destroy } = plan.summary;
    lines.push(`Plan: ${add} to add, ${change} to change, ${destroy} to destroy.`);
  }
  if (plan.unmanaged.length > 0) {
    lines.push(
      '',
      `Note: ${plan.unmanaged.length} ${plan.unmanaged.length === 1 ? 'object' : 'objects'} in the catalogue ${plan.unmanaged.length === 1 ? 'is' : 'are'} not managed by manifests and left alone: ${plan.unmanaged.join(', ')}`,
    );
  }
  for (const e of plan.errors) lines.push('', `Error: ${e.summary}`, '', `  ${e.detail}`);
  return `${lines.join('\n')}\n`;
}

export function headline(c: Change): string {
  switch (c.action) {
    case 'create':
      return `${c.address} will be created`;
    case 'update':
      return c.adopt
        ? `${c.address} will be taken over by the manifests and updated in-place`
        : `${c.address} will be updated in-place`;
    case 'move':
      return `${c.kind}/${c.previousName} has moved to ${c.address}${c.fields.length > 0 ? ' and will be updated in-place' : ''}`;
    case 'delete':
      return `${c.address} will be destroyed (its dumps are kept and age out under their own retention)`;
    default:
      return assertNever(c);
  }
}

function details(c: Change): FieldChange[] {
  switch (c.action) {
    case 'create':
      return leaves(c.after, 'after');
    case 'delete':
      return [];
    case 'update':
    case 'move':
      return [...c.fields];
    default:
      return assertNever(c);
  }
}

function leaves(o: { spec: object; labels: object; annotations: object }, side: 'after'): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (path: string, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, child] of Object.entries(v)) walk(`${path}.${k}`, child);
    } else out.push({ path, before: undefined, [side]: v } as FieldChange);
  };
  for (const part of ['spec', 'labels', 'annotations'] as const) {
    for (const [k, v] of Object.entries(o[part])) walk(`${part}.${k}`, v);
  }
  return out;
}

function fieldSymbol(f: FieldChange): '+' | '~' | '-' {
  return f.before === undefined ? '+' : f.after === undefined ? '-' : '~';
}

function fieldLine(f: FieldChange): string {
  const symbol = fieldSymbol(f);
  if (symbol === '+') return `+ ${f.path} = ${show(f.after)}`;
  if (symbol === '-') return `- ${f.path} = ${show(f.before)}`;
  return `~ ${f.path} = ${show(f.before)} -> ${show(f.after)}`;
}

export function show(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}
