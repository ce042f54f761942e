# Parses an iCalendar file with python icalendar (Debian's python3-icalendar,
# a parser independent of ical.js) and prints what the tests check as JSON:
# the calendar's properties, per VEVENT its properties with DTSTART/DTEND in
# UTC, read through the file's own VTIMEZONEs (Timezone.to_tz), and, with
# FROM and TO (YYYY-MM-DD), every instance recurring_ical_events expands
# (RRULE, RDATE, EXDATE, overrides by RECURRENCE-ID) in that range.
# Usage: /usr/bin/python3 tests/harness/ical_check.py FILE [FROM TO]
import datetime
import json
import sys

import icalendar
import recurring_ical_events

UTC = datetime.timezone.utc
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
zones = {str(z['TZID']): z.to_tz() for z in cal.walk('VTIMEZONE')}


def utc(prop):
    """The instant of a DATE-TIME property, through the file's VTIMEZONE."""
    if prop is None:
        return None
    dt = prop.dt
    tzid = prop.params.get('TZID')
    if tzid:  # the file's VTIMEZONE, not the parser's own zone database
        dt = zones[str(tzid)].localize(dt.replace(tzinfo=None))
    return dt.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def text(v):
    return None if v is None else str(v)


out = {
    'name': text(cal.get('NAME')),
    'x_wr_calname': text(cal.get('X-WR-CALNAME')),
    'refresh': cal.get('REFRESH-INTERVAL').to_ical().decode() if cal.get('REFRESH-INTERVAL') else None,
    'refresh_value': text(cal.get('REFRESH-INTERVAL').params.get('VALUE')) if cal.get('REFRESH-INTERVAL') else None,
    'ttl': text(cal.get('X-PUBLISHED-TTL')),
    'timezones': sorted(zones),
    'events': [],
}
for ev in cal.walk('VEVENT'):
    org = ev.get('ORGANIZER')
    out['events'].append({
        'uid': text(ev.get('UID')),
        'summary': text(ev.get('SUMMARY')),
        'description': text(ev.get('DESCRIPTION')),
        'status': text(ev.get('STATUS')),
        'start_utc': utc(ev.get('DTSTART')),
        'end_utc': utc(ev.get('DTEND')),
        'tzid': text(ev.get('DTSTART').params.get('TZID')),
        'organizer_cn': text(org.params.get('CN')) if org is not None else None,
        'rrule': ev.get('RRULE').to_ical().decode() if ev.get('RRULE') else None,
        'recurrence_id': utc(ev.get('RECURRENCE-ID')),
    })
if len(sys.argv) > 3:
    a, b = (datetime.date.fromisoformat(d) for d in sys.argv[2:4])
    out['instances'] = sorted(
        ({'uid': text(e.get('UID')),
          'start_utc': e['DTSTART'].dt.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ'),
          'location': text(e.get('LOCATION')), 'status': text(e.get('STATUS'))}
         for e in recurring_ical_events.of(cal).between(a, b)),
        key=lambda i: (i['start_utc'], i['uid']))
print(json.dumps(out, ensure_ascii=False))
