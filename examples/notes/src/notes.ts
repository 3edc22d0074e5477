/** The notes logic, apart from the host: keys and records. Tested directly by `node --test`. */

export interface Note {
  id: number;
  text: string;
  tags: string[];
}

/** Keys sort in creation order: `note/` and the id, zero-padded. */
export function noteKey(id: number): string {
  return `note/${String(id).padStart(10, '0')}`;
}

export const NEXT_ID_KEY = 'meta/next-id';

export function normaliseTags(tags: readonly string[] | undefined): string[] {
  return [...new Set((tags ?? []).map((t) => t.trim().toLowerCase()).filter((t) => t !== ''))].sort();
}

export function matches(note: Note, tag: string | undefined): boolean {
  return tag === undefined || note.tags.includes(tag.trim().toLowerCase());
}
