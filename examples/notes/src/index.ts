/**
 * Notes kept in the package's own key-value store (`permissions.kv`): they
 * persist between calls and sessions, are private to this package, and count
 * against the quota the manifest declares (a full store is the refusal
 * `quota-exceeded`). Without the kv grant every tool fails with `not-granted`.
 */
import { defineTools, kv, ToolError } from 'mpp:sdk';
import { matches, NEXT_ID_KEY, normaliseTags, noteKey, type Note } from './notes.ts';

export const handler = defineTools({
  'add-note'(input: { text: string; tags?: string[] }) {
    const id = kv.getJson<number>(NEXT_ID_KEY) ?? 1;
    const note: Note = { id, text: input.text, tags: normaliseTags(input.tags) };
    kv.setJson(noteKey(id), note);
    kv.setJson(NEXT_ID_KEY, id + 1);
    return note;
  },

  'list-notes'(input: { tag?: string; limit?: number }) {
    const limit = input.limit ?? 50;
    const notes: Note[] = [];
    for (const key of kv.list('note/', 1000)) {
      const note = kv.getJson<Note>(key);
      if (note && matches(note, input.tag)) notes.push(note);
      if (notes.length >= limit) break;
    }
    return { notes };
  },

  'delete-note'(input: { id: number }) {
    if (!kv.delete(noteKey(input.id))) throw new ToolError('not-found', `there is no note ${input.id}`);
    return { deleted: input.id };
  },
});
