import { useCallback, useState } from 'react';
import { useApi } from '../api-context.js';
import { type ApiError, toApiError } from '../api-error.js';
import type { ConsentStanding, Profile } from '../api-types.js';
import { ApiProblem } from '../components/api-problem.js';
import { Panel } from '../components/panel.js';
import { ProfileLookup } from '../components/profile-lookup.js';
import { ProfileResults } from '../components/profile-results.js';
import { ProfileView } from '../components/profile-view.js';
import { hashParams, replaceHashParams } from '../hash-params.js';
import { useLoad } from '../use-load.js';
import '../components/people.css';
import { usePrivacyAccess } from '../use-privacy-access.js';

const RECENT_EVENTS = 50;
const SEARCH_LIMIT = 50;

interface Search {
  trait: string;
  value: string;
}

interface LoadedProfile {
  profile: Profile;
  /** From the profile when it carries them, else from the consent API; undefined when that failed. */
  consents: ConsentStanding[] | undefined;
  consentError: ApiError | undefined;
}

/** Find a person by id or trait and see their 360° view. The open person is in the address: `#profiles?id=…`. */
export function ProfilesPage() {
  const api = useApi();
  const [reference, setReference] = useState<string | undefined>(() => hashParams().get('id') ?? undefined);
  const [search, setSearch] = useState<Search | undefined>(undefined);
  const privacyAccess = usePrivacyAccess();

  const open = useCallback((next: string) => {
    setReference(next);
    setSearch(undefined);
    replaceHashParams('profiles', { id: next });
  }, []);

  const loadProfile = useCallback(
    async (signal: AbortSignal): Promise<LoadedProfile | undefined> => {
      if (!reference) return undefined;
      const profile = await api.profile(reference, RECENT_EVENTS, signal);
      if (profile.consents) return { profile, consents: profile.consents, consentError: undefined };
      try {
        const consent = await api.personConsent(profile.personId, signal);
        return { profile, consents: consent.state, consentError: undefined };
      } catch (caught) {
        if (signal.aborted) throw caught;
        return { profile, consents: undefined, consentError: toApiError(caught) };
      }
    },
    [api, reference],
  );
  const loaded = useLoad(loadProfile, reference ?? '', reference !== undefined);

  const runSearch = useCallback(
    (signal: AbortSignal) =>
      search
        ? api.searchProfiles(search.trait, search.value, SEARCH_LIMIT, signal)
        : Promise.resolve(undefined),
    [api, search],
  );
  const results = useLoad(runSearch, JSON.stringify(search ?? null), search !== undefined);

  return (
    <div className="stack">
      <Panel title="Find a person" testId="panel-profile-lookup">
        <ProfileLookup
          onLookup={(next) => (next === reference ? loaded.refresh() : open(next))}
          onSearch={(trait, value) => {
            if (search?.trait === trait && search.value === value) results.refresh();
            setSearch({ trait, value });
            setReference(undefined);
            replaceHashParams('profiles', {});
          }}
        />
      </Panel>
      {search ? (
        <Panel title={`People with ${search.trait} = ${search.value}`} testId="panel-profile-results">
          {results.error ? (
            <ApiProblem
              error={results.error}
              action={`search people by ${search.trait}`}
              testId="profile-search-error"
            />
          ) : results.data ? (
            <ProfileResults profiles={results.data.items} trait={search.trait} onOpen={open} />
          ) : (
            <p className="loading">Searching…</p>
          )}
        </Panel>
      ) : null}
      {reference ? (
        loaded.error ? (
          <ApiProblem error={loaded.error} action="look up profiles" testId="profile-error" />
        ) : loaded.data ? (
          <ProfileView
            profile={loaded.data.profile}
            consents={loaded.data.consents}
            consentError={loaded.data.consentError}
            privacyAccess={privacyAccess}
            onReload={loaded.refresh}
          />
        ) : (
          <p className="loading">Loading {reference}…</p>
        )
      ) : search ? null : (
        <p className="muted small empty-hint">
          Look a person up by email, user id, person id or anonymous id, or search by a trait such as plan =
          premium.
        </p>
      )}
    </div>
  );
}
