/**
 * Helper of the storage benchmark: opens a microshard, writes one bulk, and SIGKILLs
 * itself right after the KV commit, before the search index applies it — the worst
 * moment for recovery. Usage: `_kill_during_write.ts DIR`.
 */
import { Microshard } from "../storage/microshard.ts";

const dir = Deno.args[0]!;
const shard = await Microshard.open({
  dir,
  faults: { afterKvCommit: () => Deno.kill(Deno.pid, "SIGKILL") },
});
await shard.write(Array.from({ length: 500 }, (_, i) => ({
  op: "put" as const,
  index: "packages",
  id: `killed-${i}`,
  doc: { name: `killed ${i}`, description: "written right before a SIGKILL" },
})));
console.error("the fault hook did not fire");
Deno.exit(1);
