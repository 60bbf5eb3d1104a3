import { type FormEvent, useId, useState } from 'react';

/** The kinds of id a person can be looked up by, with the prefix the profile API takes. */
export const LOOKUP_ID_TYPES = [
  { value: 'email', label: 'Email', placeholder: 'ada@example.com' },
  { value: 'user_id', label: 'User id', placeholder: '42' },
  { value: 'person', label: 'Person id', placeholder: 'p_0123456789abcdef' },
  { value: 'anonymous_id', label: 'Anonymous id', placeholder: 'a1b2c3…' },
  { value: 'phone', label: 'Phone', placeholder: '+44 20 7946 0000' },
] as const;

export type LookupIdType = (typeof LOOKUP_ID_TYPES)[number]['value'];

/** The reference `GET /v1/profiles/:id` takes: a person id as is, anything else as `type:value`. */
export function profileReference(type: LookupIdType, value: string): string {
  const text = value.trim();
  return type === 'person' ? text : `${type}:${text}`;
}

interface ProfileLookupProps {
  onLookup: (reference: string) => void;
  onSearch: (trait: string, value: string) => void;
}

type Mode = 'lookup' | 'search';

/** Find a person: by one of their ids, or by the value of a trait (which may match several people). */
export function ProfileLookup({ onLookup, onSearch }: ProfileLookupProps) {
  const id = useId();
  const [mode, setMode] = useState<Mode>('lookup');
  const [idType, setIdType] = useState<LookupIdType>('email');
  const [idValue, setIdValue] = useState('');
  const [trait, setTrait] = useState('');
  const [traitValue, setTraitValue] = useState('');

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (mode === 'lookup') {
      if (idValue.trim()) onLookup(profileReference(idType, idValue));
    } else if (trait.trim() && traitValue.trim()) {
      onSearch(trait.trim(), traitValue.trim());
    }
  };
  const placeholder = LOOKUP_ID_TYPES.find((item) => item.value === idType)?.placeholder ?? '';

  return (
    <div className="stack stack-tight">
      <fieldset className="segmented" aria-label="How to find the person" data-testid="profile-mode">
        <button
          type="button"
          className={mode === 'lookup' ? 'segment segment-active' : 'segment'}
          aria-pressed={mode === 'lookup'}
          onClick={() => setMode('lookup')}
          data-testid="profile-mode-lookup"
        >
          Look up by id
        </button>
        <button
          type="button"
          className={mode === 'search' ? 'segment segment-active' : 'segment'}
          aria-pressed={mode === 'search'}
          onClick={() => setMode('search')}
          data-testid="profile-mode-search"
        >
          Search by trait
        </button>
      </fieldset>
      <form
        className="form-row"
        onSubmit={submit}
        aria-label={mode === 'lookup' ? 'Look up a person by id' : 'Search people by trait'}
        data-testid="profile-lookup"
      >
        {mode === 'lookup' ? (
          <>
            <label className="field" htmlFor={`${id}-type`}>
              <span>Id type</span>
              <select
                id={`${id}-type`}
                value={idType}
                onChange={(event) => setIdType(event.target.value as LookupIdType)}
                data-testid="profile-id-type"
              >
                {LOOKUP_ID_TYPES.map((item) => (
                  <option key={item.value} value={item.value}>
                    {item.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field field-grow" htmlFor={`${id}-value`}>
              <span>Id</span>
              <input
                id={`${id}-value`}
                value={idValue}
                placeholder={placeholder}
                onChange={(event) => setIdValue(event.target.value)}
                autoComplete="off"
                data-testid="profile-id-value"
              />
            </label>
          </>
        ) : (
          <>
            <label className="field" htmlFor={`${id}-trait`}>
              <span>Trait</span>
              <input
                id={`${id}-trait`}
                value={trait}
                placeholder="plan"
                onChange={(event) => setTrait(event.target.value)}
                autoComplete="off"
                data-testid="profile-search-trait"
              />
            </label>
            <label className="field field-grow" htmlFor={`${id}-trait-value`}>
              <span>Value</span>
              <input
                id={`${id}-trait-value`}
                value={traitValue}
                placeholder="premium"
                onChange={(event) => setTraitValue(event.target.value)}
                autoComplete="off"
                data-testid="profile-search-value"
              />
            </label>
          </>
        )}
        <button type="submit" className="button button-primary" data-testid="profile-find">
          {mode === 'lookup' ? 'Open profile' : 'Search'}
        </button>
      </form>
    </div>
  );
}
