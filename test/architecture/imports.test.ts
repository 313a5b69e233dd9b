import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { importCycles, importGraph, importsAcross, type ImportGraph } from '../helpers/import-graph.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const graph = importGraph(root, 'src');

t.test('the helper finds cycles and forbidden imports (table)', async (t) => {
  const cases: Array<{ name: string; graph: Record<string, string[]>; cycles: string[][] }> = [
    { name: 'a chain', graph: { 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }, cycles: [] },
    { name: 'two files', graph: { 'a.ts': ['b.ts'], 'b.ts': ['a.ts'] }, cycles: [['a.ts', 'b.ts']] },
    { name: 'a file importing itself', graph: { 'a.ts': ['a.ts'] }, cycles: [['a.ts']] },
    {
      name: 'a ring of three beside a diamond',
      graph: { 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['d.ts'], 'c.ts': ['d.ts'], 'd.ts': [], 'x.ts': ['y.ts'], 'y.ts': ['z.ts'], 'z.ts': ['x.ts'] },
      cycles: [['x.ts', 'y.ts', 'z.ts']],
    },
    { name: 'imports outside the graph are ignored', graph: { 'a.ts': ['../generated/x.js'] }, cycles: [] },
  ];
  for (const c of cases) t.same(importCycles(new Map(Object.entries(c.graph)) as ImportGraph), c.cycles, c.name);
  const layered: ImportGraph = new Map([
    ['src/repositories/a.ts', ['src/domain/x.ts', 'src/services/s.ts']],
    ['src/services/s.ts', ['src/repositories/a.ts']],
  ]);
  t.same(importsAcross(layered, 'src/repositories', ['src/services']), ['src/repositories/a.ts -> src/services/s.ts']);
});

t.test('the graph sees every kind of relative import', async (t) => {
  t.ok(graph.size > 50, `${graph.size} files under src/`);
  // app.ts imports the gateway with a value import and a type import.
  t.ok(graph.get('src/app.ts')?.includes('src/gateway/gateway.ts'));
});

t.test('src/ has no import cycles (type-only imports count)', async (t) => {
  t.same(importCycles(graph), [], 'no cycles');
});

t.test('layers: lower layers never import upper ones', async (t) => {
  const upper = ['src/services', 'src/handlers', 'src/gateway', 'src/plugins'];
  t.same(importsAcross(graph, 'src/repositories', upper), [], 'repositories import no services, handlers, gateway or plugins');
  t.same(importsAcross(graph, 'src/domain', ['src/repositories', ...upper]), [], 'domain imports only domain');
  t.same(importsAcross(graph, 'src/services', ['src/handlers', 'src/gateway', 'src/plugins']), [], 'services import no handlers, gateway or plugins');
  t.same(importsAcross(graph, 'src/gateway', ['src/repositories']), [], 'the gateway reaches the database only through the interfaces it is given');
});
