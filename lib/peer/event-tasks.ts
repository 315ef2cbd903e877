// The webrtc-pc event tasks (icecandidate, negotiationneeded, track) of every connection of the
// process: one first-in first-out queue, run from setImmediate (webrtc-pc §4.4.1: "queue a task").
//
// A task ends with a microtask checkpoint in a browser: what one event's listener awaits runs
// before the next event fires. Node makes that checkpoint between two setImmediate callbacks, so
// a task that calls a listener is the last one its immediate runs. A task that finds no listener
// runs no user code, queues no microtask, and the next task can follow in the same callback: the
// tasks of a burst of connections that nobody listens to take one immediate per turn instead of
// one each (docs/peer.md "Setup cost"). An immediate is scheduled for each task queued while its
// target has a listener for the event, as one was before, so those events still fire in the turn
// they fired in; one more is scheduled for the tasks queued without one.

/** An event task: fires its event if still due, and says whether it called a listener. */
export type EventTask = () => boolean;

/** Queued tasks from `head` on (the slots before it are spent). */
const tasks: (EventTask | undefined)[] = [];
let head = 0;
/** Immediates scheduled and not run yet; each runs tasks up to the first that calls a listener. */
let slots = 0;
/** Spent slots at the front after which the queue is compacted (a burst of events with listeners). */
const COMPACT_AFTER = 1024;

/**
 * Queues `task`. `listened`: the event's target had a listener for it when the task was queued
 * (the task then gets an immediate of its own; one added later is served by a following immediate).
 */
export function queueEventTask(task: EventTask, listened: boolean): void {
  tasks.push(task);
  if (listened || slots === 0) schedule();
}

function schedule(): void {
  slots++;
  setImmediate(runEventTasks);
}

function runEventTasks(): void {
  slots--;
  // Only the tasks queued before this immediate: one a listener queues waits for the next (bounded).
  const end = tasks.length;
  try {
    while (head < end) {
      const task = tasks[head]!;
      tasks[head++] = undefined;
      if (task()) break;
    }
  } finally {
    if (head === tasks.length) {
      tasks.length = 0;
      head = 0;
    } else if (head >= COMPACT_AFTER) {
      tasks.splice(0, head);
      head = 0;
    }
    // Tasks left and no immediate coming for them (a listener added after they were queued).
    if (head < tasks.length && slots === 0) schedule();
  }
}
