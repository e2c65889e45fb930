// What every view needs: the API client and the auth store, handed down once by the App.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Api } from './api.ts';
import type { Auth, AuthSnapshot } from './auth.ts';

export interface AppServices { api: Api; auth: Auth }

export const Services = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(Services);
  if (!s) throw new Error('Services missing: render views inside <App>');
  return s;
}

export function useAuth(): AuthSnapshot {
  const { auth } = useServices();
  const [snap, setSnap] = useState(auth.snapshot());
  useEffect(() => {
    const unsubscribe = auth.subscribe(setSnap);
    // Effects run after the first paint: catch a change (e.g. loading -> authenticated) made in between.
    const now = auth.snapshot();
    setSnap((s) => (s.state === now.state && s.user === now.user ? s : now));
    return unsubscribe;
  }, [auth]);
  return snap;
}

export interface AsyncState<T> { data: T | undefined; error: unknown; loading: boolean }

/** Runs `load` whenever `deps` change; the latest call wins. `set` patches the data in place. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<AsyncState<T>>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, error: null, loading: true }));
    load().then(
      (data) => { if (live) setState({ data, error: null, loading: false }); },
      (error: unknown) => { if (live) setState({ data: undefined, error, loading: false }); },
    );
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return {
    ...state,
    reload: () => setTick((t) => t + 1),
    set: (data: T) => setState({ data, error: null, loading: false }),
  };
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric' });
}
