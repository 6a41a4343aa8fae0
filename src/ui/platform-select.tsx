/** The "Platform" field of the upload, event-filter and board-setup forms. */
export function PlatformSelect(props: {
  names: string[];
  selected?: string | undefined;
  emptyLabel?: string | undefined;
}) {
  return (
    <label>
      Platform
      <select name="platform">
        {props.emptyLabel !== undefined && <option value="">{props.emptyLabel}</option>}
        {props.names.map((name) => (
          <option value={name} selected={name === props.selected}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}
