import { createInterface } from 'node:readline/promises';
import { PgbackmanError } from '../errors.ts';
import type { Output } from './output.ts';

/**
 * Asks for `yes` on a terminal, as Terraform does; without one the command must be told (--auto-approve).
 * `what` names the command in both messages ("apply", "retention apply").
 */
export async function askApproval(output: Output, what: string, actions: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new PgbackmanError(
      'ABORTED',
      `${what} needs approval: run it in a terminal and answer yes, or pass --auto-approve; nothing was changed`,
    );
  }
  output.err.write(
    `\nDo you want to perform these actions?\n  pgbackman will ${actions}.\n  Only 'yes' will be accepted to approve.\n\n`,
  );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('  Enter a value: ');
  rl.close();
  return answer.trim() === 'yes';
}
