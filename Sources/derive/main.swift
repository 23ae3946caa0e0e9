import Lessons
print(Lessons.registry.names)
