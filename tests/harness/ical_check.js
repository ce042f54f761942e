// Parses an iCalendar file with ical.js (a real, widely used parser) and
// prints what the test checks as JSON: per VEVENT its properties as the
// parser understood them, and the time zones it resolved.
// With FROM and TO (YYYY-MM-DD) it also expands every recurring event
// (RRULE, RDATE, EXDATE, overrides by RECURRENCE-ID) as ical.js does and
// lists the instances that start in [FROM, TO).
// Usage: node tests/ical_check.js NODE_MODULES_DIR FILE [FROM TO]
const path = require('path');
const fs = require('fs');
const ICAL = require(path.resolve(process.argv[2], 'ical.js'));
const text = fs.readFileSync(process.argv[3], 'utf8');
const cal = new ICAL.Component(ICAL.parse(text));
for (const tz of cal.getAllSubcomponents('vtimezone'))
  ICAL.TimezoneService.register(tz);
const out = {
  version: cal.getFirstPropertyValue('version'),
  name: cal.getFirstPropertyValue('name'),
  x_wr_calname: cal.getFirstPropertyValue('x-wr-calname'),
  refresh: cal.getFirstProperty('refresh-interval') &&
    String(cal.getFirstPropertyValue('refresh-interval')),
  ttl: cal.getFirstProperty('x-published-ttl') && String(cal.getFirstPropertyValue('x-published-ttl')),
  prodid: cal.getFirstPropertyValue('prodid'),
  timezones: cal.getAllSubcomponents('vtimezone').map(z => z.getFirstPropertyValue('tzid')),
  events: cal.getAllSubcomponents('vevent').map(v => {
    const e = new ICAL.Event(v);
    return {
      uid: e.uid,
      summary: e.summary,
      summary_lang: v.getFirstProperty('summary').getParameter('language'),
      description: e.description,
      location: e.location,
      status: v.getFirstPropertyValue('status'),
      sequence: e.sequence,
      dtstamp: String(v.getFirstPropertyValue('dtstamp')),
      tzid: e.startDate.timezone,
      start_utc: e.startDate.toJSDate().toISOString(),
      end_utc: e.endDate.toJSDate().toISOString(),
      categories: v.getAllProperties('categories').flatMap(p => p.getValues()),
      organizer: v.getFirstPropertyValue('organizer'),
      organizer_cn: v.getFirstProperty('organizer') &&
        v.getFirstProperty('organizer').getParameter('cn'),
      rrule: v.getFirstProperty('rrule') && v.getFirstPropertyValue('rrule').toString(),
      recurrence_id: v.getFirstProperty('recurrence-id') &&
        v.getFirstPropertyValue('recurrence-id').toJSDate().toISOString(),
      url: v.getFirstPropertyValue('url'),
    };
  }),
};
if (process.argv.length > 5) {
  const from = new Date(process.argv[4] + 'T00:00:00Z'), to = new Date(process.argv[5] + 'T00:00:00Z');
  const vevents = cal.getAllSubcomponents('vevent');
  const masters = vevents.filter(v => !v.hasProperty('recurrence-id')).map(v => new ICAL.Event(v));
  for (const v of vevents.filter(v => v.hasProperty('recurrence-id')))
    for (const m of masters)
      if (m.uid === v.getFirstPropertyValue('uid'))
        m.relateException(new ICAL.Event(v));
  out.instances = [];
  for (const m of masters) {
    const it = m.iterator();
    for (let t, n = 0; (t = it.next()) && n < 1000; n++) {
      const d = m.getOccurrenceDetails(t), at = d.startDate.toJSDate();
      if (at >= to)
        break;
      if (at < from)
        continue;
      out.instances.push({uid: m.uid, start_utc: at.toISOString().replace('.000Z', 'Z'),
                          location: d.item.location, status: d.item.component.getFirstPropertyValue('status')});
    }
  }
  out.instances.sort((a, b) => a.start_utc < b.start_utc ? -1 : a.start_utc > b.start_utc ? 1 :
                                (a.uid < b.uid ? -1 : 1));
}
console.log(JSON.stringify(out));
