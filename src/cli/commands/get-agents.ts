import { stringify } from 'yaml';
import { type AgentRow, agentState, listAgents } from '../../catalogue/agents.ts';
import { requireCurrentSchema } from '../../catalogue/migrate.ts';
import { withCatalogue } from '../../catalogue/open-catalogue.ts';
import { ExitCode } from '../exit-codes.ts';
import type { Output } from '../output.ts';
import { renderTable } from '../render-table.ts';
import type { GetFlags } from './get.ts';

/** `pgbackman get agents`: every agent's heartbeat, revisions and conditions; Stale when it stopped beating. */
export async function runGetAgents(location: string, flags: GetFlags, output: Output): Promise<ExitCode> {
  return withCatalogue(location, 'get', async (db) => {
    await requireCurrentSchema(db);
    const now = new Date();
    const agents = (await listAgents(db, flags.server === undefined ? {} : { server: flags.server })).map(
      (a) => ({ ...a, state: agentState(a, now) }),
    );
    if (flags.output === 'json') output.out.write(`${JSON.stringify(agents, null, 2)}\n`);
    else if (flags.output === 'yaml') output.out.write(stringify(agents));
    else if (agents.length === 0) output.err.write('No agents found.\n');
    else {
      const width = process.stdout.isTTY ? process.stdout.columns : undefined;
      output.out.write(
        renderTable(
          ['SERVER', 'HOST', 'PID', 'STATE', 'REVISION', 'HEARTBEAT', 'MESSAGE'],
          agents.map((a) => [
            a.server,
            a.host,
            String(a.pid),
            a.state,
            a.lastAppliedRevision ?? '-',
            a.heartbeatAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
            message(a),
          ]),
          width,
        ),
      );
    }
    return ExitCode.Ok;
  });
}

function message(a: AgentRow): string {
  const ready = a.conditions.find((c) => c.type === 'Ready');
  return (ready?.message ?? '-').split('\n')[0] ?? '-';
}
