// Parses an iCalendar file with ical.js (a real, widely used parser) and
// prints what the test checks as JSON: per VEVENT its properties as the
// parser understood them, and the time zones it resolved.
// Usage: node tests/ical_check.js NODE_MODULES_DIR FILE
const path = require('path');
const fs = require('fs');
const ICAL = require(path.resolve(process.argv[2], 'ical.js'));
const text = fs.readFileSync(process.argv[3], 'utf8');
const cal = new ICAL.Component(ICAL.parse(text));
for (const tz of cal.getAllSubcomponents('vtimezone'))
  ICAL.TimezoneService.register(tz);
const out = {
  version: cal.getFirstPropertyValue('version'),
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
      url: v.getFirstPropertyValue('url'),
    };
  }),
};
console.log(JSON.stringify(out));
