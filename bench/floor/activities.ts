/** The floor's only activity: does nothing and says when it started (epoch ms, this machine's clock). */
export function createFloorActivities() {
  return {
    async noop(_step: number): Promise<number> {
      return Date.now();
    },
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
