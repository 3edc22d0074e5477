;; A tool written in WebAssembly text, no language runtime: the core module of
;; the conformance vectors' component (counter.wasm) and of the non-JS
;; component test. Every call adds one to the kv key "count", logs it and
;; answers {"count":N}. Imports and exports follow the canonical ABI names
;; wit-component expects, so `wasm-tools component embed` (world `tool` of
;; spec/wit) and `component new` turn it into a component of the tool world.
(module
  (import "mpp:tool/kv@0.1.0" "get" (func $kv_get (param i32 i32 i32)))
  (import "mpp:tool/kv@0.1.0" "set" (func $kv_set (param i32 i32 i32 i32 i32)))
  (import "mpp:tool/log@0.1.0" "write" (func $log_write (param i32 i32 i32)))
  (memory (export "memory") 1)
  ;; Host strings and lists are copied in above 4096 by a bump allocator.
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "count")
  (data (i32.const 32) "counted")
  ;; The answer is built at 256: the prefix, then the digits and "}".
  (data (i32.const 256) "{\22count\22:")

  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)) (i32.const 1)))
              (i32.const -1))
          (then unreachable))))
    (local.get $p))

  ;; call(tool: string, input: string) -> result<string, tool-error>
  (func (export "mpp:tool/handler@0.1.0#call") (param i32 i32 i32 i32) (result i32)
    (local $n i32) (local $t i32) (local $len i32) (local $i i32)
    ;; kv.get("count") -> result<option<list<u8>>, host-error> at 64
    (call $kv_get (i32.const 16) (i32.const 5) (i32.const 64))
    (if (i32.and
          (i32.and (i32.eqz (i32.load8_u (i32.const 64))) (i32.eq (i32.load8_u (i32.const 68)) (i32.const 1)))
          (i32.eq (i32.load (i32.const 76)) (i32.const 4)))
      (then (local.set $n (i32.load (i32.load (i32.const 72))))))
    (local.set $n (i32.add (local.get $n) (i32.const 1)))
    ;; kv.set("count", n as 4 bytes) -> result<_, host-error> at 96
    (i32.store (i32.const 128) (local.get $n))
    (call $kv_set (i32.const 16) (i32.const 5) (i32.const 128) (i32.const 4) (i32.const 96))
    ;; log.write(info, "counted")
    (call $log_write (i32.const 1) (i32.const 32) (i32.const 7))
    ;; digits of n after the prefix, then "}"
    (local.set $t (local.get $n))
    (loop $count
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $count (local.get $t)))
    (local.set $t (local.get $n))
    (local.set $i (i32.add (i32.const 265) (local.get $len)))
    (loop $digit
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (local.get $i) (i32.add (i32.const 48) (i32.rem_u (local.get $t) (i32.const 10))))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $digit (local.get $t)))
    (i32.store8 (i32.add (i32.const 265) (local.get $len)) (i32.const 125))
    ;; ok(string) at 200: discriminant 0, then pointer and length
    (i32.store (i32.const 200) (i32.const 0))
    (i32.store (i32.const 204) (i32.const 256))
    (i32.store (i32.const 208) (i32.add (i32.const 10) (local.get $len)))
    (i32.const 200))
)
