/** The goals of issue 12 as bench rows: what was measured, the goal, and whether it is met. */
export interface GoalRow {
  readonly what: string;
  readonly measured: string;
  readonly goal: string;
  /** Absent: a figure the issue asks to report, with no bound to meet. */
  readonly met?: boolean;
}

export function printGoals(title: string, rows: readonly GoalRow[]): void {
  console.log(`\n${title}`);
  console.table(Object.fromEntries(rows.map((r) => [r.what, { measured: r.measured, goal: r.goal, met: r.met === undefined ? '-' : r.met ? 'yes' : 'NO' }])));
}
