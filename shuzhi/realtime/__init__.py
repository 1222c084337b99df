"""Real time: passages and venue check-ins as a stream, IoT people counters over MQTT, live occupancy per
venue and county, and crowd-limit early warnings pushed to the dashboard.

``events`` holds the records that cross the module's boundaries (a counter reading from a device, whatever
transport brought it); the rest of the package builds on them.
"""
