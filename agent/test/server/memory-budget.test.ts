import { expect, test } from "bun:test";
import { MemoryBudget } from "../../src/server/memory-budget.ts";

test("reservations fit under the limit, and released bytes can be reserved again", () => {
  const budget = new MemoryBudget(100);
  expect(budget.reserve(60)).toBe(true);
  expect(budget.reserve(41)).toBe(false);
  expect(budget.reserve(40)).toBe(true);
  expect(budget.inUse).toBe(100);
  expect(budget.reserve(1)).toBe(false);
  budget.release(60);
  expect(budget.inUse).toBe(40);
  expect(budget.reserve(60)).toBe(true);
  expect(budget.reserve(0)).toBe(true);
});
