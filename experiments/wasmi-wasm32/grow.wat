;; bench(n): runs `memory.grow 0` n times, returns n. wasmi's `memory_grow` handler cannot
;; tail-call the next handler (it keeps a stack temporary), so this measures how many executed
;; `memory.grow`s one uninterrupted run survives on V8's stack.
(module
  (memory 1)
  ;; Not a constant, so wasmi cannot translate the grow into a `memory.size`.
  (global $zero (mut i32) (i32.const 0))
  (func (export "bench") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (drop (memory.grow (global.get $zero)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i)))
