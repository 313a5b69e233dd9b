import t from 'tap';
import { cursorPage, cutPage, decodeCursor, encodeCursor, pageFetchSize } from '../../src/domain/cursor.ts';

t.test('a page is read one row past its limit', async (t) => {
  for (const limit of [1, 2, 50, 100]) t.equal(pageFetchSize(limit), limit + 1, `limit ${limit}`);
});

const cuts: Array<{ name: string; rows: number[]; limit: number; page: number[]; hasMore: boolean }> = [
  { name: 'nothing fetched', rows: [], limit: 3, page: [], hasMore: false },
  { name: 'fewer rows than the limit: the last page', rows: [1, 2], limit: 3, page: [1, 2], hasMore: false },
  { name: 'exactly the limit: the last page', rows: [1, 2, 3], limit: 3, page: [1, 2, 3], hasMore: false },
  { name: 'the extra row: more follow, and it is not in the page', rows: [1, 2, 3, 4], limit: 3, page: [1, 2, 3], hasMore: true },
  { name: 'limit 1 with its extra row', rows: [7, 8], limit: 1, page: [7], hasMore: true },
];

for (const c of cuts) {
  t.test(`cutPage: ${c.name}`, async (t) => {
    const rows = Object.freeze([...c.rows]);
    t.same(cutPage(rows, c.limit), { rows: c.page, hasMore: c.hasMore });
    t.same(rows, c.rows, 'the fetched rows are left as they were');
  });
}

const keyOf = (row: { id: string; a: string }) => ({ a: row.a, id: row.id });
const row = (id: number) => ({ id: String(id), a: String(id * 10) });

const cursors: Array<{ name: string; rows: number[]; limit: number; page: number[]; nextFrom: number | null }> = [
  { name: 'nothing fetched: no cursor', rows: [], limit: 2, page: [], nextFrom: null },
  { name: 'the last page: no cursor', rows: [1, 2], limit: 2, page: [1, 2], nextFrom: null },
  { name: 'more follow: the cursor is the last row of the page, not the extra one', rows: [1, 2, 3], limit: 2, page: [1, 2], nextFrom: 2 },
];

for (const c of cursors) {
  t.test(`cursorPage: ${c.name}`, async (t) => {
    const page = cursorPage(c.rows.map(row), c.limit, keyOf);
    t.same(page.rows, c.page.map(row));
    if (c.nextFrom === null) {
      t.equal(page.next_cursor, null);
    } else {
      t.equal(page.next_cursor, encodeCursor(keyOf(row(c.nextFrom))));
      t.same(decodeCursor(page.next_cursor!, ['a', 'id']), keyOf(row(c.nextFrom)), 'the cursor decodes to the sort key');
    }
  });
}
