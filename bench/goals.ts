/** The goals of issue 12 as bench rows: what was measured, the goal, and whether it is met. */
export interface GoalRow {
  readonly what: string;
  readonly measured: string;
  readonly goal: string;
  readonly met: boolean;
}

export function printGoals(title: string, rows: readonly GoalRow[]): void {
  console.log(`\n${title}`);
  console.table(Object.fromEntries(rows.map((r) => [r.what, { measured: r.measured, goal: r.goal, met: r.met ? 'yes' : 'NO' }])));
}
